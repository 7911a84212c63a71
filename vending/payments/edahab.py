"""e-Dahab (Somtel / Dahabshiil; USD and SLSH): issue an invoice, the payer approves it, check it (docs/GATEWAYS.md).

Wire format, from e-Dahab's public merchant API pages (docs/GATEWAYS.md, "e-Dahab", lists what is and is
not confirmed): every call is ``POST {base}/{Endpoint}?hash={hex}`` with a JSON body, where ``hex`` is the
SHA-256 of the exact body bytes followed by the API secret. ``IssueInvoice`` ``{apiKey, edahabNumber,
amount, agentCode, currency}`` pushes a PIN prompt to the payer's phone and answers ``{InvoiceId,
InvoiceStatus, TransactionId, StatusCode, StatusDescription, ValidationErrors}``; ``CheckInvoiceStatus``
``{apiKey, invoiceId}`` answers the same shape. ``StatusCode`` 0 is success; ``InvoiceStatus`` is
"Paid", "Unpaid" or "Invalid".

Our reading, and its safe side:
* An issued invoice that is not paid yet is PENDING; the pending-payments sweep checks it (no callback is
  documented). Only "Paid" confirms; "Invalid" (we read: expired or refused) is a decline; "Unpaid" stays
  open however long it takes, and the sweep hands it to staff after SWEEP_GIVE_UP_AFTER_SECONDS: our own
  clock never declares an invoice the payer might still approve failed.
* ``IssueInvoice`` may block while the payer reads the prompt (the documented example answers "Paid"), so
  it runs with EDAHAB_TIMEOUT_SECONDS from the payments queue. A timeout there is UNKNOWN, never DECLINED,
  and is not re-sent: a second IssueInvoice would be a second invoice. Without the invoice id it cannot be
  checked, so it goes to staff (the payer may have paid).
* A check that fails on the wire is ProviderUnavailable (read-only: retried by the next sweep).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests

from .. import phones
from . import _http
from .base import (
    CallbackEvent,
    Capabilities,
    FailureReason,
    InitiateResult,
    InvalidCallback,
    Outcome,
    OutcomeUnknown,
    PaymentProvider,
    PaymentRequest,
    ProviderNotConfigured,
    ProviderRejected,
    ProviderUnavailable,
    StatusResult,
)

log = logging.getLogger(__name__)

ISSUE = "IssueInvoice"
CHECK = "CheckInvoiceStatus"
SUCCESS = 0
API_ERROR = 1  # "not successfully processed": nothing happened, retry later
INVALID_JSON = 2
VALIDATION_ERROR = 3
INVALID_CREDENTIALS = 4
INSUFFICIENT_BALANCE = 5
INVOICE_NOT_FOUND = 6
PAID, UNPAID, INVALID = "paid", "unpaid", "invalid"  # InvoiceStatus, compared case-insensitively
CURRENCIES = frozenset({"USD", "SLSH"})


def request_hash(body: bytes, secret: str) -> str:
    """The ``hash`` query parameter: SHA-256 (hex) of the body bytes followed by the API secret."""
    return hashlib.sha256(body + secret.encode("utf-8")).hexdigest()


def edahab_number(e164: str) -> str:
    """The payer as e-Dahab's ``edahabNumber``: the Somali national number without 252 (e.g. 621234567)."""
    number = phones.normalise(e164)
    if not number.startswith("+252"):
        raise ValueError("e-Dahab numbers are Somali (+252)")
    return number[4:]


def _amount(value: Decimal) -> int | float:
    # A JSON number, as the documented examples send it; cents survive (2 decimals at most for USD).
    return int(value) if value == value.to_integral_value() else float(value.quantize(Decimal("0.01")))


@dataclass(frozen=True)
class EdahabConfig:
    base_url: str
    api_key: str
    api_secret: str
    agent_code: str
    timeout_seconds: float = 60.0  # IssueInvoice may wait for the payer's PIN
    connect_timeout: float = 5.0
    query_timeout: float = 15.0

    def __post_init__(self) -> None:
        missing = [n for n in ("base_url", "api_key", "api_secret", "agent_code") if not getattr(self, n)]
        if missing:
            raise ProviderNotConfigured(f"e-Dahab settings missing: {', '.join(missing)}")

    def __repr__(self) -> str:  # the key and the secret stay out of logs and tracebacks
        return f"EdahabConfig(base_url={self.base_url!r}, agent_code={self.agent_code!r})"


@dataclass(frozen=True)
class _Reply:
    code: int | None
    status: str  # InvoiceStatus, lower case
    invoice_id: str
    transaction_id: str
    description: str
    validation: Any
    body: Mapping[str, Any]

    @property
    def staff_text(self) -> str:
        return f"{self.code} {self.description} {self.status}".strip()


def _field(body: Mapping[str, Any], name: str) -> Any:
    # The documented examples spell keys both ways ("InvoiceId" / "invoiceId"): accept either case.
    for key, value in body.items():
        if key.lower() == name.lower():
            return value
    return None


class EdahabProvider(PaymentProvider):
    name = "edahab"
    capabilities = Capabilities(supports_callback=False, supports_query=True, holds_funds=False, supports_refund=False)

    def __init__(self, config: EdahabConfig, *, session: requests.Session | None = None) -> None:
        self.config = config
        self._session = session or requests.Session()

    # -- wire ------------------------------------------------------------------------------------------

    def _post(self, endpoint: str, payload: dict[str, Any], read_timeout: float) -> _Reply:
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        url = f"{self.config.base_url.rstrip('/')}/{endpoint}?hash={request_hash(body, self.config.api_secret)}"
        reply = _http.send(
            self._session,
            "POST",
            url,
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=(self.config.connect_timeout, read_timeout),
        )
        if reply.status in (502, 503, 504):
            raise ProviderUnavailable(f"e-Dahab answered HTTP {reply.status}")
        data = reply.body
        if reply.status != 200 or not isinstance(data, dict):
            raise OutcomeUnknown(
                f"e-Dahab answered HTTP {reply.status} without a readable body", raw={"text": reply.text[:500]}
            )
        code = _field(data, "StatusCode")
        return _Reply(
            code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            status=str(_field(data, "InvoiceStatus") or "").strip().lower(),
            invoice_id=str(_field(data, "InvoiceId") or ""),
            transaction_id=str(_field(data, "TransactionId") or ""),
            description=str(_field(data, "StatusDescription") or ""),
            validation=_field(data, "ValidationErrors"),
            body=data,
        )

    def _refused(self, reply: _Reply, endpoint: str) -> None:
        """Raise for the codes that say "our request or our credentials", never the payer's answer."""
        if reply.code == API_ERROR:
            raise ProviderUnavailable(f"e-Dahab {endpoint}: {reply.staff_text}", raw=reply.body)
        if reply.code in (INVALID_JSON, INVALID_CREDENTIALS):
            raise ProviderRejected(f"e-Dahab {endpoint}: {reply.staff_text}", raw=reply.body)

    # -- interface -------------------------------------------------------------------------------------

    def initiate(self, request: PaymentRequest) -> InitiateResult:
        if request.currency not in CURRENCIES:
            raise ProviderRejected(f"e-Dahab takes USD or SLSH, not {request.currency}")
        try:
            number = edahab_number(request.phone)
        except (ValueError, phones.InvalidPhoneNumber):
            return InitiateResult(
                outcome=Outcome.DECLINED,
                failure_reason=FailureReason.WRONG_WALLET,
                provider_message="not a Somali number",
            )
        payload = {
            "apiKey": self.config.api_key,
            "edahabNumber": number,
            "amount": _amount(request.amount),
            "agentCode": self.config.agent_code,
            "currency": request.currency,
        }
        try:
            reply = self._post(ISSUE, payload, self.config.timeout_seconds)
        except OutcomeUnknown as exc:
            # Sent, no answer: an invoice may exist and may be paid. Never a failure, never re-sent.
            log.warning("edahab invoice for %s: outcome unknown (%s)", request.reference, exc)
            return InitiateResult(outcome=Outcome.UNKNOWN, provider_message=str(exc), raw=exc.raw)
        self._refused(reply, ISSUE)
        if reply.code == INSUFFICIENT_BALANCE:
            return InitiateResult(
                outcome=Outcome.DECLINED,
                failure_reason=FailureReason.INSUFFICIENT_FUNDS,
                provider_message=reply.staff_text,
                raw=reply.body,
            )
        if reply.code == VALIDATION_ERROR:
            if "edahabnumber" in json.dumps(reply.validation).lower():
                return InitiateResult(
                    outcome=Outcome.DECLINED,
                    failure_reason=FailureReason.WRONG_WALLET,
                    provider_message=reply.staff_text,
                    raw=reply.body,
                )
            raise ProviderRejected(f"e-Dahab {ISSUE}: {reply.staff_text}", raw=reply.body)
        if reply.code != SUCCESS or not reply.invoice_id:
            return InitiateResult(
                outcome=Outcome.UNKNOWN,
                provider_reference=reply.invoice_id,
                provider_message=f"unexpected answer: {reply.staff_text}",
                raw=reply.body,
            )
        result = self._outcome(reply)
        return InitiateResult(
            outcome=result.outcome,
            provider_reference=result.provider_reference,
            receipt=result.receipt,
            failure_reason=result.failure_reason,
            provider_message=result.provider_message,
            raw=result.raw,
        )

    def query_status(self, provider_reference: str, request: PaymentRequest) -> StatusResult:
        """CheckInvoiceStatus for the invoice id we were given; a wire failure is ProviderUnavailable."""
        if not provider_reference:
            return StatusResult(outcome=Outcome.UNKNOWN, provider_message="no invoice id to check")
        payload = {"apiKey": self.config.api_key, "invoiceId": provider_reference}
        try:
            reply = self._post(CHECK, payload, self.config.query_timeout)
        except OutcomeUnknown as exc:  # a read-only call: nothing can have happened, ask again later
            raise ProviderUnavailable(f"e-Dahab {CHECK}: {exc}") from exc
        self._refused(reply, CHECK)
        if reply.code != SUCCESS:
            # Invoice_Not_Found for an invoice we issued, a validation error: a human looks.
            return StatusResult(
                outcome=Outcome.UNKNOWN,
                provider_reference=provider_reference,
                provider_message=reply.staff_text,
                raw=reply.body,
            )
        return self._outcome(reply, invoice_id=provider_reference)

    def _outcome(self, reply: _Reply, *, invoice_id: str = "") -> StatusResult:
        invoice = reply.invoice_id or invoice_id
        if reply.status == PAID:
            return StatusResult(
                outcome=Outcome.APPROVED,
                provider_reference=invoice,
                receipt=reply.transaction_id or invoice,
                provider_message=reply.staff_text,
                raw=reply.body,
            )
        if reply.status == INVALID:
            return StatusResult(
                outcome=Outcome.DECLINED,
                provider_reference=invoice,
                failure_reason=FailureReason.UNKNOWN,
                provider_message=reply.staff_text,
                raw=reply.body,
            )
        if reply.status == UNPAID:
            return StatusResult(
                outcome=Outcome.PENDING, provider_reference=invoice, provider_message=reply.staff_text, raw=reply.body
            )
        return StatusResult(
            outcome=Outcome.UNKNOWN,
            provider_reference=invoice,
            provider_message=f"unknown invoice status: {reply.staff_text}",
            raw=reply.body,
        )

    def parse_callback(self, headers: Mapping[str, str], body: bytes) -> CallbackEvent:
        raise InvalidCallback("e-Dahab sends no callbacks we know of; invoices are checked")
