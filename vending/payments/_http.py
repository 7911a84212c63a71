"""Shared HTTP plumbing: one place that decides what a transport failure means.

The line that matters: if the request never left (connection refused, DNS, connect timeout) nothing can
have happened at the provider, so the error is transient. If it left and no answer came back (read
timeout, connection dropped mid-reply) the provider may have acted, so the outcome is unknown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from .base import OutcomeUnknown, ProviderUnavailable


@dataclass(frozen=True)
class HttpReply:
    status: int
    body: Any  # parsed JSON, or None when the body is not JSON
    text: str


def _never_sent(exc: requests.ConnectionError) -> bool:
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    timeout: tuple[float, float],
    **kwargs: Any,
) -> HttpReply:
    """Make one call; raise ProviderUnavailable (never sent) or OutcomeUnknown (sent, no answer)."""
    try:
        response = session.request(method, url, timeout=timeout, **kwargs)
    except requests.ConnectionError as exc:
        if _never_sent(exc):
            raise ProviderUnavailable(f"cannot connect: {type(exc).__name__}") from exc
        raise OutcomeUnknown(f"connection lost before the reply: {type(exc).__name__}") from exc
    except requests.Timeout as exc:
        raise OutcomeUnknown(f"no reply within {timeout[1]} s") from exc
    except requests.RequestException as exc:
        raise OutcomeUnknown(f"transport error: {type(exc).__name__}") from exc
    text = response.text
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    return HttpReply(status=response.status_code, body=body, text=text[:2000])
