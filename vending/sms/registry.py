"""Pick the SMS sender from a settings-like object: Africa's Talking when credentials are set, else console.

Settings read: AT_USERNAME, AT_API_KEY, AT_API_BASE_URL, AT_SENDER_ID, AT_ENQUEUE.
"""

from __future__ import annotations

from typing import Any

from .africastalking import AfricasTalkingConfig, AfricasTalkingSender
from .base import SmsSender
from .console import ConsoleSender

_console = ConsoleSender()  # one per process so its outbox collects every message


def get_sender(settings_obj: Any) -> SmsSender:
    username = getattr(settings_obj, "AT_USERNAME", "") or ""
    api_key = getattr(settings_obj, "AT_API_KEY", "") or ""
    if not (username and api_key):
        return _console
    return AfricasTalkingSender(AfricasTalkingConfig(
        username=username,
        api_key=api_key,
        base_url=getattr(settings_obj, "AT_API_BASE_URL", "") or "",
        sender_id=getattr(settings_obj, "AT_SENDER_ID", "") or "",
        enqueue=bool(getattr(settings_obj, "AT_ENQUEUE", True)),
    ))
