"""Safaricom Daraja M-Pesa Express (STK push) adapter (docs/PROTOCOLS.md §3).

Flow: ``initiate`` pushes the prompt and returns PENDING with the CheckoutRequestID; the result arrives as a
callback (``parse_callback``) or, when the callback is lost, through ``query_status`` (STK Query, which
carries no receipt or amount). M-Pesa takes the money at once: no hold, so no commit/cancel.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

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
from .tokencache import CacheLike, LocalCache, SharedToken

log = logging.getLogger(__name__)

NAIROBI = ZoneInfo("Africa/Nairobi")
PAYBILL = "CustomerPayBillOnline"
BUY_GOODS = "CustomerBuyGoodsOnline"
INVALID_TOKEN = "404.001.03"
_BUG_CODES = frozenset({"400.002.02", "404.001.01", "405.001"})
_BUSY_CODES = frozenset({"500.003.02", "500.003.03", "500.003.1001"})
_MULTI_MEANING = "500.001.1001"

# docs/PROTOCOLS.md §3.5. Codes not listed map to UNKNOWN (generic text, staff review).
RESULT_CODE_REASONS: dict[int, FailureReason] = {
    1: FailureReason.INSUFFICIENT_FUNDS,
    2: FailureReason.LIMIT,
    3: FailureReason.LIMIT,
    4: FailureReason.LIMIT,
    8: FailureReason.LIMIT,
    17: FailureReason.BUSY,  # same amount to the same customer within 2 minutes
    26: FailureReason.PROVIDER_ERROR,
    1001: FailureReason.BUSY,  # subscriber locked
    1019: FailureReason.UNREACHABLE,  # prompt expired
    1025: FailureReason.PROVIDER_ERROR,  # prompt too long: our bug
    1032: FailureReason.CANCELLED,
    1037: FailureReason.UNREACHABLE,
    2001: FailureReason.WRONG_PIN,
    2028: FailureReason.PROVIDER_ERROR,  # TransactionType does not match PartyB: config bug
    8006: FailureReason.UNKNOWN,  # credential locked: only Safaricom care can help, so no "try again"
    9999: FailureReason.PROVIDER_ERROR,
}


def reason_for_result_code(code: int) -> FailureReason:
    return RESULT_CODE_REASONS.get(code, FailureReason.UNKNOWN)


@dataclass(frozen=True)
class DarajaConfig:
    base_url: str
    consumer_key: str
    consumer_secret: str
    shortcode: str
    passkey: str
    transaction_type: str = PAYBILL
    till_number: str = ""  # PartyB for Buy Goods; Paybill uses the shortcode
    connect_timeout: float = 5.0
    read_timeout: float = 30.0

    def __post_init__(self) -> None:
        missing = [
            n for n in ("base_url", "consumer_key", "consumer_secret", "shortcode", "passkey") if not getattr(self, n)
        ]
        if missing:
            raise ProviderNotConfigured(f"Daraja settings missing: {', '.join(missing)}")
        if self.transaction_type not in (PAYBILL, BUY_GOODS):
            raise ProviderNotConfigured(f"unknown DARAJA_TRANSACTION_TYPE {self.transaction_type!r}")

    def __repr__(self) -> str:  # keep the secret and the passkey out of logs and tracebacks
        return f"DarajaConfig(base_url={self.base_url!r}, shortcode={self.shortcode!r})"

    @property
    def party_b(self) -> str:
        return self.till_number if self.transaction_type == BUY_GOODS and self.till_number else self.shortcode


class DarajaProvider(PaymentProvider):
    name = "daraja"
    capabilities = Capabilities(supports_callback=True, supports_query=True, holds_funds=False, supports_refund=False)

    def __init__(
        self,
        config: DarajaConfig,
        *,
        cache: CacheLike | None = None,
        session: requests.Session | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self._session = session or requests.Session()
        self._now = now or (lambda: datetime.now(NAIROBI))
        # Key by a hash so the consumer key itself never lands in Redis key listings.
        key_id = hashlib.sha256(config.consumer_key.encode()).hexdigest()[:16]
        self._token = SharedToken(cache or LocalCache(), f"daraja:token:{key_id}", self._fetch_token)

    # -- OAuth -------------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return self.config.base_url.rstrip("/") + path

    def _timeout(self) -> tuple[float, float]:
        return (self.config.connect_timeout, self.config.read_timeout)

    def _fetch_token(self) -> tuple[str, float]:
        try:
            reply = _http.send(
                self._session,
                "GET",
                self._url("/oauth/v1/generate"),
                params={"grant_type": "client_credentials"},
                auth=(self.config.consumer_key, self.config.consumer_secret),
                timeout=self._timeout(),
            )
        except OutcomeUnknown as exc:  # fetching a token changes nothing: just retry later
            raise ProviderUnavailable(str(exc)) from exc
        body = reply.body if isinstance(reply.body, dict) else {}
        token = body.get("access_token")
        if reply.status == 200 and token:
            try:
                expires_in = float(body.get("expires_in", 3599))  # string or number
            except (TypeError, ValueError):
                expires_in = 3599.0
            # Keep ~10 minutes of margin (docs/PROTOCOLS.md §3.1: cache for about 50 min of the 60).
            log.info("daraja oauth token refreshed")
            return str(token), max(60.0, expires_in - 600)
        if reply.status >= 500 or reply.status == 429:
            raise ProviderUnavailable(f"Daraja OAuth answered HTTP {reply.status}", raw=body)
        raise ProviderRejected(f"Daraja OAuth refused the credentials (HTTP {reply.status})", raw=body)

    def _call(self, path: str, payload: dict[str, Any]) -> _http.HttpReply:
        """POST with the bearer token; on 404.001.03 refresh once and retry (docs/PROTOCOLS.md §3.1)."""
        for attempt in (1, 2):
            token = self._token.get()
            reply = _http.send(
                self._session,
                "POST",
                self._url(path),
                json=payload,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                timeout=self._timeout(),
            )
            if _error_code(reply) == INVALID_TOKEN and attempt == 1:
                self._token.invalidate(token)
                continue
            return reply
        return reply

    def _password(self) -> tuple[str, str]:
        timestamp = self._now().astimezone(NAIROBI).strftime("%Y%m%d%H%M%S")
        raw = f"{self.config.shortcode}{self.config.passkey}{timestamp}".encode()
        return base64.b64encode(raw).decode(), timestamp

    # -- STK push ------------------------------------------------------------------------------------

    def initiate(self, request: PaymentRequest) -> InitiateResult:
        if request.amount != request.amount.to_integral_value():
            raise ProviderRejected("M-Pesa amounts are whole shillings")
        try:
            msisdn = phones.for_daraja(request.phone)
        except phones.InvalidPhoneNumber:
            return InitiateResult(
                outcome=Outcome.DECLINED,
                failure_reason=FailureReason.WRONG_WALLET,
                provider_message="not a Kenyan mobile number",
            )
        password, timestamp = self._password()
        payload = {
            "BusinessShortCode": self.config.shortcode,
            "Password": password,
            "Timestamp": timestamp,
            "TransactionType": self.config.transaction_type,
            "Amount": str(int(request.amount)),
            "PartyA": msisdn,
            "PartyB": self.config.party_b,
            "PhoneNumber": msisdn,
            "CallBackURL": request.callback_url,
            "AccountReference": request.reference,
            "TransactionDesc": (request.description or "Token")[:13],
        }
        try:
            reply = self._call("/mpesa/stkpush/v1/processrequest", payload)
        except OutcomeUnknown as exc:
            # The push may have been accepted, but without a CheckoutRequestID we cannot query it.
            return InitiateResult(outcome=Outcome.UNKNOWN, provider_message=str(exc))
        body = reply.body if isinstance(reply.body, dict) else {}
        if reply.status == 200 and str(body.get("ResponseCode")) == "0" and body.get("CheckoutRequestID"):
            return InitiateResult(
                outcome=Outcome.PENDING,
                provider_reference=str(body["CheckoutRequestID"]),
                provider_message=str(body.get("ResponseDescription", "")),
                raw=body,
            )
        code, message = _error_code(reply), str(body.get("errorMessage", ""))
        if code == "400.002.02" and ("phone" in message.lower() or "partya" in message.lower()):
            # Daraja rejects numbers that are not M-Pesa (docs/PROTOCOLS.md §5): the customer's problem, not a bug.
            return InitiateResult(
                outcome=Outcome.DECLINED, failure_reason=FailureReason.WRONG_WALLET, provider_message=message, raw=body
            )
        if code == _MULTI_MEANING and "lock" in message.lower():
            return InitiateResult(
                outcome=Outcome.DECLINED, failure_reason=FailureReason.BUSY, provider_message=message, raw=body
            )
        raise _envelope_error(reply, body)

    # -- callback ------------------------------------------------------------------------------------

    def parse_callback(self, headers: Mapping[str, str], body: bytes) -> CallbackEvent:
        try:
            data = json.loads(body)
            callback = data["Body"]["stkCallback"]
            checkout_id = str(callback["CheckoutRequestID"])
            result_code = int(callback["ResultCode"])
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidCallback(f"not an STK callback: {type(exc).__name__}") from exc
        if not checkout_id:
            raise InvalidCallback("empty CheckoutRequestID")
        if not _storable(checkout_id):
            # A NUL or half a surrogate pair can be neither stored nor looked up (the webhook already keeps
            # such bodies out; this covers a row stored before that): flagged once, not retried.
            raise InvalidCallback("unreadable CheckoutRequestID")
        message = str(callback.get("ResultDesc", ""))
        if result_code != 0:
            return CallbackEvent(
                outcome=Outcome.DECLINED,
                provider_reference=checkout_id,
                failure_reason=reason_for_result_code(result_code),
                provider_message=f"{result_code}: {message}",
                raw=data,
            )
        items = _metadata_items(callback)
        try:
            amount = Decimal(str(items["Amount"])) if items.get("Amount") is not None else None
        except InvalidOperation as exc:
            raise InvalidCallback("Amount is not a number") from exc
        phone = str(items.get("PhoneNumber") or "")
        if not all(_storable(value) for value in (message, phone, str(items.get("MpesaReceiptNumber") or ""))):
            raise InvalidCallback("unreadable field in the callback metadata")
        return CallbackEvent(
            outcome=Outcome.APPROVED,
            provider_reference=checkout_id,
            receipt=str(items.get("MpesaReceiptNumber") or ""),
            amount=amount,
            phone=f"+{phone}" if phone.isdigit() else "",
            provider_message=message,
            raw=data,
        )

    # -- STK query -----------------------------------------------------------------------------------

    def query_status(self, provider_reference: str, request: PaymentRequest) -> StatusResult:
        password, timestamp = self._password()
        payload = {
            "BusinessShortCode": self.config.shortcode,
            "Password": password,
            "Timestamp": timestamp,
            "CheckoutRequestID": provider_reference,
        }
        try:
            reply = self._call("/mpesa/stkpushquery/v1/query", payload)
        except OutcomeUnknown as exc:  # a query changes nothing: retry it later
            raise ProviderUnavailable(str(exc)) from exc
        body = reply.body if isinstance(reply.body, dict) else {}
        if reply.status == 200 and "ResultCode" in body:
            try:
                result_code = int(body["ResultCode"])  # a string here, unlike the callback
            except (TypeError, ValueError) as exc:
                raise ProviderRejected("STK query ResultCode is not a number", raw=body) from exc
            message = f"{result_code}: {body.get('ResultDesc', '')}"
            if result_code == 0:
                # The query carries no receipt and no amount (docs/PROTOCOLS.md §3.6).
                return StatusResult(
                    outcome=Outcome.APPROVED, provider_reference=provider_reference, provider_message=message, raw=body
                )
            return StatusResult(
                outcome=Outcome.DECLINED,
                provider_reference=provider_reference,
                failure_reason=reason_for_result_code(result_code),
                provider_message=message,
                raw=body,
            )
        message = str(body.get("errorMessage", ""))
        if _error_code(reply) == _MULTI_MEANING and "being processed" in message.lower():
            return StatusResult(
                outcome=Outcome.PENDING, provider_reference=provider_reference, provider_message=message, raw=body
            )
        raise _envelope_error(reply, body)


def _error_code(reply: _http.HttpReply) -> str:
    return str(reply.body.get("errorCode", "")) if isinstance(reply.body, dict) else ""


def _envelope_error(reply: _http.HttpReply, body: Mapping[str, Any]) -> Exception:
    """Map a Daraja error envelope (or an unreadable reply) to transient vs permanent."""
    code, message = _error_code(reply), str(body.get("errorMessage", ""))
    text = f"Daraja HTTP {reply.status} {code} {message}".strip()
    if code in _BUSY_CODES or code == INVALID_TOKEN:
        return ProviderUnavailable(text, raw=body)
    if code in _BUG_CODES:
        return ProviderRejected(text, raw=body)
    if code == _MULTI_MEANING:
        # "Merchant does not exist" / "Wrong credentials" are configuration; anything else: try later.
        lowered = message.lower()
        if "credential" in lowered or "merchant" in lowered:
            return ProviderRejected(text, raw=body)
        return ProviderUnavailable(text, raw=body)
    if reply.status >= 500 or reply.status == 429 or not body:
        return ProviderUnavailable(text or f"Daraja HTTP {reply.status}", raw=body)
    return ProviderRejected(text, raw=body)


def _storable(text: str) -> bool:
    """Can a database store and match this text (no NUL, no unpaired surrogate)?"""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _metadata_items(callback: Mapping[str, Any]) -> dict[str, Any]:
    """CallbackMetadata.Item as {Name: Value}; items without a Value (e.g. Balance) map to None."""
    metadata = callback.get("CallbackMetadata") or {}
    items = metadata.get("Item") if isinstance(metadata, dict) else None
    result: dict[str, Any] = {}
    for item in items or []:
        if isinstance(item, dict) and "Name" in item:
            result[str(item["Name"])] = item.get("Value")
    return result
