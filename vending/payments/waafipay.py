"""WaafiPay adapter for EVC Plus, Zaad and Sahal (docs/PROTOCOLS.md §4): preauthorize -> vend -> commit.

``API_PREAUTHORIZE`` blocks while the payer reads the PIN prompt, so it runs with a long read timeout
(``WAAFIPAY_TIMEOUT_SECONDS``) from a Celery task. A timeout or a dropped connection means UNKNOWN, never
DECLINED: the hold may exist.

There is no status API for ``API_*`` transactions. **Our documented, unconfirmed choice:** ``query_status``
re-sends the original ``API_PREAUTHORIZE`` with the *same* ``referenceId`` (docs/PROTOCOLS.md §6 rule 5), assuming
WaafiPay answers a known ``referenceId`` with the recorded result instead of prompting again. Whether it
does, or rejects the reused id, is not documented (docs/PROTOCOLS.md §4.4). Because of that, only an approval or a
decline from our allow-list counts as an answer to the replay; anything else (an id-reuse error, a
timeout) stays UNKNOWN for the staff queue.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

import requests

from .. import phones
from . import _http
from .base import (
    ActionResult,
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

SUCCESS_CODE = "2001"
ALREADY_CANCELLED_CODE = "5202"
REFERENCE_PREFIX = "KRT-"
_REFERENCE_ID_RE = re.compile(r"^[A-Za-z0-9._-]{10,30}$")

# responseMsg allow-list (docs/PROTOCOLS.md §4.2, texts from client code, unconfirmed). Substring, case-insensitive.
MESSAGE_REASONS: tuple[tuple[str, FailureReason], ...] = (
    ("rcs_user_rejected", FailureReason.CANCELLED),
    ("rcs_no_route_found", FailureReason.WRONG_WALLET),
    ("invalid pin", FailureReason.WRONG_PIN),
    ("haraaga xisaabtaadu kuguma filna", FailureReason.INSUFFICIENT_FUNDS),  # Somali: balance too low
    ("insufficient", FailureReason.INSUFFICIENT_FUNDS),
    ("rcs_timeout", FailureReason.UNREACHABLE),
    ("receiver is locked", FailureReason.PROVIDER_ERROR),  # our merchant account, not the customer
)
CODE_REASONS: dict[str, FailureReason] = {
    "5206": FailureReason.CANCELLED,
    "5310": FailureReason.CANCELLED,
}


def reference_id_for(reference: str) -> str:
    """Our purchase reference as a WaafiPay referenceId (10-30 of [A-Za-z0-9._-]).

    ``KRT-`` + the reference, with ``_`` fill for very short references so the result stays unique and
    reversible (references are alphanumeric, so the fill can never be confused with them).
    """
    reference_id = REFERENCE_PREFIX + reference.rjust(6, "_")
    if not _REFERENCE_ID_RE.match(reference_id):
        raise ValueError("reference cannot form a WaafiPay referenceId")
    return reference_id


def reason_for(response_code: str, response_msg: str) -> FailureReason:
    lowered = response_msg.lower()
    for needle, reason in MESSAGE_REASONS:
        if needle in lowered:
            return reason
    return CODE_REASONS.get(response_code, FailureReason.UNKNOWN)


@dataclass(frozen=True)
class WaafiPayConfig:
    base_url: str
    merchant_uid: str
    api_user_id: str
    api_key: str
    timeout_seconds: float = 180.0  # read timeout for the blocking PIN prompt
    connect_timeout: float = 5.0
    action_timeout: float = 30.0  # commit / cancel do not wait for the customer
    channel_name: str = "WEB"

    def __post_init__(self) -> None:
        missing = [n for n in ("base_url", "merchant_uid", "api_user_id", "api_key") if not getattr(self, n)]
        if missing:
            raise ProviderNotConfigured(f"WaafiPay settings missing: {', '.join(missing)}")

    def __repr__(self) -> str:  # keep the API key out of logs and tracebacks
        return f"WaafiPayConfig(base_url={self.base_url!r}, merchant_uid={self.merchant_uid!r})"


@dataclass(frozen=True)
class _Reply:
    code: str
    message: str
    params: Mapping[str, Any]
    body: Mapping[str, Any]


class WaafiPayProvider(PaymentProvider):
    name = "waafipay"
    capabilities = Capabilities(
        supports_callback=False,
        supports_query=True,
        holds_funds=True,
        supports_refund=True,
        queries_without_reference=True,
    )

    def __init__(
        self,
        config: WaafiPayConfig,
        *,
        session: requests.Session | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self._session = session or requests.Session()
        self._now = now or (lambda: datetime.now(UTC))

    # -- wire ------------------------------------------------------------------------------------------

    def _post(self, service_name: str, service_params: dict[str, Any], read_timeout: float) -> _Reply:
        envelope = {
            "schemaVersion": "1.0",
            "requestId": str(uuid.uuid4()),
            "timestamp": self._now().strftime("%Y-%m-%d %H:%M:%S"),
            "channelName": self.config.channel_name,
            "serviceName": service_name,
            "serviceParams": {
                "merchantUid": self.config.merchant_uid,
                "apiUserId": self.config.api_user_id,
                "apiKey": self.config.api_key,
                **service_params,
            },
        }
        reply = _http.send(
            self._session,
            "POST",
            self.config.base_url,
            json=envelope,
            timeout=(self.config.connect_timeout, read_timeout),
        )
        if reply.status == 503:
            raise ProviderUnavailable("WaafiPay answered HTTP 503")
        body = reply.body
        if reply.status != 200 or not isinstance(body, dict):
            # Sent, and the answer is unreadable: money may have moved.
            raise OutcomeUnknown(
                f"WaafiPay answered HTTP {reply.status} without a readable body", raw={"text": reply.text[:500]}
            )
        raw_params = body.get("params")
        params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
        return _Reply(
            code=str(body.get("responseCode", "")), message=str(body.get("responseMsg", "")), params=params, body=body
        )

    def _payment_params(self, request: PaymentRequest) -> dict[str, Any]:
        amount = request.amount.quantize(Decimal("0.01"), rounding=ROUND_DOWN)  # WaafiPay truncates anyway
        return {
            "paymentMethod": "MWALLET_ACCOUNT",
            "payerInfo": {"accountNo": phones.for_waafipay(request.phone)},
            "transactionInfo": {
                "referenceId": reference_id_for(request.reference),
                "invoiceId": request.reference,
                "amount": f"{amount:.2f}",
                "currency": request.currency,
                "description": (request.description or f"Purchase {request.reference}")[:255],
            },
        }

    def _is_success(self, reply: _Reply, reference_id: str) -> bool:
        # docs/PROTOCOLS.md §4.2: code 2001, state APPROVED in any case, a transactionId, and our referenceId echoed.
        return (
            reply.code == SUCCESS_CODE
            and str(reply.params.get("state", "")).upper() == "APPROVED"
            and bool(reply.params.get("transactionId"))
            and str(reply.params.get("referenceId", "")) == reference_id
        )

    def _preauthorize(self, request: PaymentRequest, *, is_replay: bool) -> StatusResult:
        reference_id = reference_id_for(request.reference)
        try:
            reply = self._post("API_PREAUTHORIZE", self._payment_params(request), self.config.timeout_seconds)
        except OutcomeUnknown as exc:
            log.warning("waafipay preauthorize %s: outcome unknown (%s)", reference_id, exc)
            return StatusResult(outcome=Outcome.UNKNOWN, provider_message=str(exc), raw=exc.raw)
        transaction_id = str(reply.params.get("transactionId") or "")
        staff_text = f"{reply.code} {reply.message}".strip()
        if self._is_success(reply, reference_id):
            return StatusResult(
                outcome=Outcome.APPROVED,
                provider_reference=transaction_id,
                receipt=str(reply.params.get("issuerTransactionId") or transaction_id),
                amount=_decimal(reply.params.get("txAmount")),
                provider_message=staff_text,
                raw=reply.body,
            )
        if reply.code == SUCCESS_CODE and transaction_id:
            # Looks approved but fails the echo check: a hold may exist, so a human decides.
            return StatusResult(
                outcome=Outcome.UNKNOWN,
                provider_reference=transaction_id,
                provider_message=f"approval failed checks: {staff_text}",
                raw=reply.body,
            )
        reason = reason_for(reply.code, reply.message)
        if is_replay and reason in (FailureReason.UNKNOWN, FailureReason.PROVIDER_ERROR):
            # An unexplained failure on a replay may just be "referenceId already used": not an answer.
            return StatusResult(
                outcome=Outcome.UNKNOWN, provider_reference=transaction_id, provider_message=staff_text, raw=reply.body
            )
        return StatusResult(
            outcome=Outcome.DECLINED,
            provider_reference=transaction_id,
            failure_reason=reason,
            provider_message=staff_text,
            raw=reply.body,
        )

    # -- interface -------------------------------------------------------------------------------------

    def initiate(self, request: PaymentRequest) -> InitiateResult:
        """Place a hold. Blocks until the payer answers the PIN prompt or the read timeout passes."""
        result = self._preauthorize(request, is_replay=False)
        return InitiateResult(
            outcome=result.outcome,
            provider_reference=result.provider_reference,
            receipt=result.receipt,
            amount=result.amount,
            failure_reason=result.failure_reason,
            provider_message=result.provider_message,
            raw=result.raw,
        )

    def query_status(self, provider_reference: str, request: PaymentRequest) -> StatusResult:
        """Replay ``API_PREAUTHORIZE`` with the same referenceId (unconfirmed behaviour; see module doc)."""
        return self._preauthorize(request, is_replay=True)

    def parse_callback(self, headers: Mapping[str, str], body: bytes) -> CallbackEvent:
        raise InvalidCallback("WaafiPay sends no callbacks for API_* payments")

    def commit(self, provider_reference: str, request: PaymentRequest) -> ActionResult:
        return self._action("API_PREAUTHORIZE_COMMIT", provider_reference, request, "Token issued")

    def cancel(self, provider_reference: str, request: PaymentRequest) -> ActionResult:
        return self._action("API_PREAUTHORIZE_CANCEL", provider_reference, request, "Token not issued")

    def refund(self, provider_reference: str, request: PaymentRequest) -> ActionResult:
        return self._action("API_CANCELPURCHASE", provider_reference, request, "Refund")

    def _action(self, service: str, transaction_id: str, request: PaymentRequest, text: str) -> ActionResult:
        if not transaction_id:
            raise ProviderRejected(f"{service} needs the WaafiPay transactionId")
        reference_id = reference_id_for(request.reference)
        params: dict[str, Any] = {"referenceId": reference_id, "transactionId": transaction_id, "description": text}
        if service == "API_CANCELPURCHASE":
            params["paymentMethod"] = "MWALLET_ACCOUNT"
        reply = self._post(service, params, self.config.action_timeout)  # OutcomeUnknown propagates
        ok = reply.code == SUCCESS_CODE and str(reply.params.get("state", "")).upper() == "APPROVED"
        if service != "API_PREAUTHORIZE_COMMIT" and reply.code == ALREADY_CANCELLED_CODE:
            ok = True  # a repeat of a cancel that already happened is a success (idempotent retry)
        return ActionResult(
            ok=ok,
            provider_reference=transaction_id,
            provider_message=f"{reply.code} {reply.message}".strip(),
            raw=reply.body,
        )


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None
