"""Payment providers behind one interface: Daraja (M-Pesa), WaafiPay (EVC Plus, Zaad, Sahal), sandbox."""

from .base import (
    ActionResult,
    CallbackEvent,
    Capabilities,
    FailureReason,
    InitiateResult,
    InvalidCallback,
    Outcome,
    OutcomeUnknown,
    PaymentError,
    PaymentProvider,
    PaymentRequest,
    ProviderNotConfigured,
    ProviderRejected,
    ProviderUnavailable,
    SimulatedCallback,
    StatusResult,
    UnsupportedOperation,
)
from .registry import get_provider

__all__ = [
    "ActionResult",
    "CallbackEvent",
    "Capabilities",
    "FailureReason",
    "InitiateResult",
    "InvalidCallback",
    "Outcome",
    "OutcomeUnknown",
    "PaymentError",
    "PaymentProvider",
    "PaymentRequest",
    "ProviderNotConfigured",
    "ProviderRejected",
    "ProviderUnavailable",
    "SimulatedCallback",
    "StatusResult",
    "UnsupportedOperation",
    "get_provider",
]
