"""SMS senders behind one interface: Africa's Talking (SDK), Kannel, Hormuud, a console backend, and the
router that picks one per destination (routing.py)."""

from .base import (
    Attempt,
    AttemptOutcome,
    DeliveryReport,
    DeliveryStatus,
    InboundSms,
    InvalidDeliveryReport,
    InvalidInbound,
    SendResult,
    SmsError,
    SmsRejected,
    SmsSender,
    SmsUnavailable,
)
from .registry import GATEWAYS, INBOUND_PARSERS, REPORT_PARSERS, get_sender

__all__ = [
    "GATEWAYS",
    "INBOUND_PARSERS",
    "REPORT_PARSERS",
    "Attempt",
    "AttemptOutcome",
    "DeliveryReport",
    "DeliveryStatus",
    "InboundSms",
    "InvalidDeliveryReport",
    "InvalidInbound",
    "SendResult",
    "SmsError",
    "SmsRejected",
    "SmsSender",
    "SmsUnavailable",
    "get_sender",
]
