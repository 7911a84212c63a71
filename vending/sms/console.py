"""Console SMS backend: the default when no Africa's Talking credentials are set (docs/DESIGN.md rule 8).

It logs the message with any token masked and keeps the last messages in memory for the demo and tests.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import deque
from collections.abc import Mapping

from .base import DeliveryReport, InboundSms, SendResult, SmsSender
from .masking import mask_tokens
from .reports import parse_at_delivery_report

log = logging.getLogger(__name__)


class ConsoleSender(SmsSender):
    name = "console"

    def __init__(self, keep: int = 100) -> None:
        self._lock = threading.Lock()
        self.outbox: deque[tuple[str, str, str]] = deque(maxlen=keep)  # (message id, to, message)

    def send(self, to: str, message: str, *, sender_id: str | None = None) -> SendResult:
        message_id = f"console-{uuid.uuid4().hex[:16]}"
        with self._lock:
            self.outbox.append((message_id, to, message))
        log.info("SMS %s to %s: %s", message_id, to, mask_tokens(message))
        return SendResult(
            to=to,
            accepted=True,
            provider_message_id=message_id,
            status="Success",
            status_code=101,
            cost="",
            raw={"console": True},
        )

    def parse_delivery_report(self, form: Mapping[str, str]) -> DeliveryReport:
        return parse_at_delivery_report(form)

    def parse_inbound(self, form: Mapping[str, str]) -> InboundSms:
        from .africastalking import parse_at_inbound

        return parse_at_inbound(form)
