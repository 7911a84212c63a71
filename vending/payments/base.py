"""The one payment-provider interface (docs/DESIGN.md rule 3) and the value types it speaks.

Providers take and return the frozen dataclasses below; they never touch the ORM or Django settings.
The contract every provider follows:

* ``initiate(request)`` asks the provider to prompt the payer. It returns an :class:`InitiateResult`:
  PENDING (a callback or a query will tell), APPROVED (a synchronous provider already has the money or the
  hold), DECLINED (final, with a ``failure_reason``) or UNKNOWN (the request may have reached the provider
  but we got no answer: never treat it as failed, docs/PROTOCOLS.md §4.4). It does not raise on a timeout.
* ``parse_callback(headers, body)`` turns a raw callback into a :class:`CallbackEvent`, or raises
  :class:`InvalidCallback`. It trusts nothing: the caller still matches the event to a pending payment.
* ``query_status(provider_reference, request)`` asks again. A read-only query that fails on the wire raises
  :class:`ProviderUnavailable` (safe to retry later).
* ``commit`` / ``cancel`` (providers that hold funds) and ``refund`` return an :class:`ActionResult`; a
  timeout there raises :class:`OutcomeUnknown` because the action may have happened, so the caller retries
  the *same* call until it gets an answer (docs/PROTOCOLS.md §6 rule 5).

Errors, by what the caller should do:

* :class:`ProviderUnavailable`: transient (connection refused, 5xx, spike arrest). Retry with backoff.
* :class:`ProviderRejected`: permanent (bad configuration, a bug in the request). Do not retry; alert.
* :class:`OutcomeUnknown`: the request may have taken effect. Do not resend with a new id.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from vending.wallets import wallet_spec

# Daraja's AccountReference allows 12 alphanumerics, so that bounds our purchase reference.
_REFERENCE_RE = re.compile(r"^[A-Za-z0-9]{1,12}$")
_E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")


class Outcome(StrEnum):
    APPROVED = "approved"
    PENDING = "pending"
    DECLINED = "declined"
    UNKNOWN = "unknown"


class FailureReason(StrEnum):
    """The small vocabulary that channels map to customer text (docs/PROTOCOLS.md §6 rule 9)."""

    CANCELLED = "cancelled"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    WRONG_PIN = "wrong_pin"
    UNREACHABLE = "unreachable"
    BUSY = "busy"
    WRONG_WALLET = "wrong_wallet"
    LIMIT = "limit"
    PROVIDER_ERROR = "provider_error"
    UNKNOWN = "unknown"


class PaymentError(Exception):
    """Base of every error a provider raises: what the pipeline does next (retry, alert, ask again), never a
    refusal to show a customer, so not a vending.exceptions.VendingError (see that module's docstring)."""

    def __init__(self, message: str, *, raw: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.raw: Mapping[str, Any] = raw or {}


class ProviderUnavailable(PaymentError):
    """Transient: nothing happened at the provider (or a read-only call failed). Retry with backoff."""


class ProviderRejected(PaymentError):
    """Permanent: configuration or request bug. Retrying the same request cannot help."""


class ProviderNotConfigured(ProviderRejected):
    """Credentials or base URL missing or malformed."""


class UnsupportedOperation(ProviderRejected):
    """The provider has no such operation (see ``capabilities``)."""


class OutcomeUnknown(PaymentError):
    """The request may have taken effect but no answer came back. Never treat it as a failure."""


class InvalidCallback(PaymentError):
    """A callback body we cannot read, or that lacks the fields we need."""


@dataclass(frozen=True)
class Capabilities:
    supports_callback: bool
    supports_query: bool
    holds_funds: bool
    supports_refund: bool
    # ``query_status`` works from our request alone, so a payment whose provider reference never came back
    # (a timeout on initiate) can still be asked about (WaafiPay replays the preauthorization).
    queries_without_reference: bool = False


@dataclass(frozen=True)
class PaymentRequest:
    """One payment attempt, built by services from a committed purchase row."""

    reference: str  # our purchase reference: idempotency key, 1-12 alphanumerics
    amount: Decimal
    currency: str  # "KES", "USD", "SLSH", "DJF"
    phone: str  # payer, E.164 with "+"
    wallet: str  # a code of vending/wallets.py
    description: str = ""
    callback_url: str = ""

    def __post_init__(self) -> None:
        if not _REFERENCE_RE.match(self.reference):
            raise ValueError("reference must be 1-12 letters or digits")
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite() or self.amount <= 0:
            raise ValueError("amount must be a positive Decimal")
        if not _E164_RE.match(self.phone):
            raise ValueError("phone must be E.164 with a leading +")
        if wallet_spec(self.wallet) is None:
            raise ValueError(f"unknown wallet {self.wallet!r}")
        if self.callback_url != self.callback_url.strip():
            # Daraja answers "Invalid CallBackURL" for stray whitespace (docs/PROTOCOLS.md §3.2).
            raise ValueError("callback_url has surrounding whitespace")


@dataclass(frozen=True)
class SimulatedCallback:
    """A callback the sandbox wants delivered later through the normal ``parse_callback`` path."""

    delay_seconds: float
    body: bytes
    headers: Mapping[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


@dataclass(frozen=True, kw_only=True)
class PaymentResult:
    """Fields shared by every answer about a payment."""

    outcome: Outcome
    provider_reference: str = ""  # CheckoutRequestID / WaafiPay transactionId / sandbox id
    receipt: str = ""  # MpesaReceiptNumber, issuerTransactionId, ...
    amount: Decimal | None = None  # what the provider says was actually paid
    failure_reason: FailureReason | None = None
    provider_message: str = ""  # raw text for staff, never shown to customers
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, kw_only=True)
class InitiateResult(PaymentResult):
    simulated_callbacks: tuple[SimulatedCallback, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CallbackEvent(PaymentResult):
    phone: str = ""  # E.164 if the provider reported the payer
    reference: str = ""  # our purchase reference when the provider echoes it


@dataclass(frozen=True, kw_only=True)
class StatusResult(PaymentResult):
    pass


@dataclass(frozen=True, kw_only=True)
class ActionResult:
    """Answer to commit / cancel / refund."""

    ok: bool
    provider_reference: str = ""
    provider_message: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)


class PaymentProvider(abc.ABC):
    """Base class of every provider. Subclasses set ``name`` and ``capabilities``."""

    name: str = ""
    capabilities: Capabilities = Capabilities(
        supports_callback=False, supports_query=False, holds_funds=False, supports_refund=False
    )

    @abc.abstractmethod
    def initiate(self, request: PaymentRequest) -> InitiateResult: ...

    @abc.abstractmethod
    def parse_callback(self, headers: Mapping[str, str], body: bytes) -> CallbackEvent: ...

    @abc.abstractmethod
    def query_status(self, provider_reference: str, request: PaymentRequest) -> StatusResult: ...

    def commit(self, provider_reference: str, request: PaymentRequest) -> ActionResult:
        """Capture a hold (only when ``capabilities.holds_funds``)."""
        raise UnsupportedOperation(f"{self.name} holds no funds; nothing to commit")

    def cancel(self, provider_reference: str, request: PaymentRequest) -> ActionResult:
        """Release a hold (only when ``capabilities.holds_funds``)."""
        raise UnsupportedOperation(f"{self.name} holds no funds; nothing to cancel")

    def refund(self, provider_reference: str, request: PaymentRequest) -> ActionResult:
        """Reverse a completed payment (only when ``capabilities.supports_refund``)."""
        raise UnsupportedOperation(f"{self.name} cannot refund through the API")
