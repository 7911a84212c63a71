"""Keep 20-digit STS tokens out of logs: show only the last four digits."""

from __future__ import annotations

import re

# 20 digits, possibly grouped with spaces or dashes ("1234 5678 9012 3456 7890").
_TOKEN_RE = re.compile(r"(?<!\d)\d(?:[ -]?\d){19}(?!\d)")


def _mask(match: re.Match[str]) -> str:
    text = match.group(0)
    digits_seen = 0
    total = sum(c.isdigit() for c in text)
    out = []
    for char in text:
        if char.isdigit():
            digits_seen += 1
            out.append(char if digits_seen > total - 4 else "*")
        else:
            out.append(char)
    return "".join(out)


def mask_tokens(text: str) -> str:
    return _TOKEN_RE.sub(_mask, text)
