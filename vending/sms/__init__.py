"""SMS senders behind one interface: Africa's Talking (SDK) and a console backend."""

from .base import (
    DeliveryReport,
    DeliveryStatus,
    InvalidDeliveryReport,
    SendResult,
    SmsError,
    SmsRejected,
    SmsSender,
    SmsUnavailable,
)
from .registry import get_sender

__all__ = [
    "DeliveryReport",
    "DeliveryStatus",
    "InvalidDeliveryReport",
    "SendResult",
    "SmsError",
    "SmsRejected",
    "SmsSender",
    "SmsUnavailable",
    "get_sender",
]
