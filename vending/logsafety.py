"""Logging filters that keep secrets out of every log line: webhook secrets, 20-digit tokens, long hex
keys (vending keys) and PIN-like values.

Code should never log them in the first place; this is the net under that rule. The webhook secret is
the one the code cannot avoid: it is a path segment (/hooks/at/sms/<secret>/), and Django's request
logger ("Bad Request: /hooks/...") and a web server's access log write the path of every request. So the
filter masks the segment after every webhook prefix, whatever its value (a mistyped secret is nearly the
real one), and any occurrence of the configured secrets elsewhere in a message or a traceback.

Where the filter sits: on every handler of Django's LOGGING (config/settings.py), on the handlers Celery
installs in a worker (`install_celery`), and on gunicorn's access and error logs (deploy/gunicorn.conf.py).
"""

from __future__ import annotations

import logging
import re
from typing import Any

_TOKEN = re.compile(r"(?<!\d)(\d{4})[ -]?(?:\d{4}[ -]?){3}(\d{4})(?!\d)")
_HEX_KEY = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{16,}(?![0-9a-fA-F])")
_PIN = re.compile(r"(?i)\b(pin|password|passkey|api_?key|secret)\b(\W{1,3})\S+")
# The secret segment of every webhook path (vending/urls.py, ussd/urls.py), raw or percent-encoded.
_WEBHOOK_PATH = re.compile(r"(?i)(/hooks/(?:daraja|waafipay|at/[a-z]+)(?:/|%2F))[^/\s\"'?#]+")
MASK = "[masked]"


def _configured_secrets() -> list[str]:
    try:
        from django.conf import settings

        values = [settings.WEBHOOK_SECRET, getattr(settings, "WEBHOOK_SECRET_PREVIOUS", "")]
    except Exception:  # settings not configured (a pure tool): the path rule still applies
        return []
    return [value for value in values if value and len(value) >= 8]


def _redact_key(match: re.Match[str]) -> str:
    """A long hex run is redacted, unless it is only decimal digits right after `<digit>.`: the fraction of
    a float (Celery's "succeeded in 0.004211893200012s"), which a vending key is not written as."""
    start = match.start()
    is_fraction = start >= 2 and match.string[start - 1] == "." and match.string[start - 2].isdigit()
    if is_fraction and match.group().isdigit():
        return match.group()
    return "[redacted-key]"


def mask_secrets(text: str) -> str:
    text = _WEBHOOK_PATH.sub(lambda m: m.group(1) + MASK, text)
    for secret in _configured_secrets():
        text = text.replace(secret, MASK)
    text = _TOKEN.sub(lambda m: f"{m.group(1)}-****-****-****-{m.group(2)}", text)
    text = _HEX_KEY.sub(_redact_key, text)
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
        # A traceback is text too (an exception message may quote a path or a value): format it once
        # here, masked; formatters reuse record.exc_text.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        return True


def mask_handlers(logger: logging.Logger) -> None:
    """Put the filter on every handler of `logger` (once each)."""
    for handler in logger.handlers:
        if not any(isinstance(f, MaskSecretsFilter) for f in handler.filters):
            handler.addFilter(MaskSecretsFilter())


def _mask_celery_logger(logger: logging.Logger | None = None, **kwargs: Any) -> None:
    if logger is not None:
        mask_handlers(logger)


def install_celery() -> None:
    """Mask the handlers Celery puts on the root and task loggers of a worker (it replaces Django's)."""
    from celery.signals import after_setup_logger, after_setup_task_logger

    after_setup_logger.connect(_mask_celery_logger, weak=False)
    after_setup_task_logger.connect(_mask_celery_logger, weak=False)
