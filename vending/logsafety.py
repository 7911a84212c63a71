"""A logging filter that keeps 20-digit tokens and long hex keys out of every log line.

Code should never log them in the first place; this is the net under that rule (issue 4: no PIN,
vending key or full token in any log line).
"""

import logging
import re

_TOKEN = re.compile(r"(?<!\d)(\d{4})[ -]?(?:\d{4}[ -]?){3}(\d{4})(?!\d)")
_HEX_KEY = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{16,}(?![0-9a-fA-F])")
_PIN = re.compile(r"(?i)\b(pin|password|passkey|api_?key|secret)\b(\W{1,3})\S+")


def mask_secrets(text: str) -> str:
    text = _TOKEN.sub(lambda m: f"{m.group(1)}-****-****-****-{m.group(2)}", text)
    text = _HEX_KEY.sub("[redacted-key]", text)
    return _PIN.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)


class MaskSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            return True
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
