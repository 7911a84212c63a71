"""Fake Safaricom Daraja: OAuth, STK push (with the callback POSTed later) and STK query (docs/PROTOCOLS.md §3).

Scenarios are chosen per payer number (12 digits, ``2547...``), else the default (``success``):

``success``       callback ResultCode 0 with Amount, MpesaReceiptNumber, TransactionDate, PhoneNumber
``cancel``        callback 1032          ``insufficient``  callback 1
``wrong_pin``     callback 2001          ``unreachable``   callback 1037
``duplicate``     the success callback twice
``no_callback``   no callback; STK query answers ResultCode "0" once ``callback_delay`` has passed
``wrong_amount``  success callback whose Amount is 1 less than requested
``pending``       no callback; STK query keeps answering "The transaction is being processed"
``busy``          push refused: 500.001.1001 "Unable to lock subscriber..."
``spike``         push refused: 500.003.02 Spike Arrest Violation

Transaction reversal (``POST /mpesa/reversal/v1/request``): accepted at once with a ConversationID, then
the result is POSTed to the request's ResultURL: ResultCode 0 with the reversal's TransactionID for a
receipt this fake issued (once), "R000002" for an unknown receipt or another amount, "R000001" for a
receipt already reversed. ``reversal_timeout`` set by ``/_fake/config`` posts to QueueTimeOutURL instead.

Control API (JSON): ``POST /_fake/scenario {"phone": "2547...", "scenario": "cancel"}`` or
``{"default": "success"}``; ``POST /_fake/config {"callback_delay": 0.2}``; ``POST /_fake/expire-tokens``
(next call gets 404.001.03); ``GET /_fake/requests``; ``GET /_fake/callbacks``; ``POST /_fake/reset``.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
import secrets
import threading
import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ._base import FakeHandler, FakeServer, post_later

NAIROBI = ZoneInfo("Africa/Nairobi")
SCENARIOS = (
    "success",
    "cancel",
    "insufficient",
    "wrong_pin",
    "unreachable",
    "duplicate",
    "no_callback",
    "wrong_amount",
    "pending",
    "busy",
    "spike",
)
_FAILURES = {
    "cancel": (1032, "Request cancelled by user"),
    "insufficient": (1, "The balance is insufficient for the transaction"),
    "wrong_pin": (2001, "The initiator information is invalid."),
    "unreachable": (1037, "DS timeout user cannot be reached"),
}
_OK_DESC = "The service request is processed successfully."
# Demo credentials the fake accepts by default (None in the constructor: accept anything).
FAKE_CONSUMER_KEY = "fake-key"
FAKE_CONSUMER_SECRET = "fake-secret"
FAKE_SHORTCODE = "174379"
FAKE_PASSKEY = "fake-passkey"


class FakeDaraja(FakeServer):
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        consumer_key: str | None = FAKE_CONSUMER_KEY,
        consumer_secret: str | None = FAKE_CONSUMER_SECRET,
        shortcode: str = FAKE_SHORTCODE,
        passkey: str | None = FAKE_PASSKEY,
        callback_delay: float = 0.0,
        check_timestamp: bool = True,
        verbose: bool = False,
    ) -> None:
        super().__init__(host, port, verbose=verbose)
        self.consumer_key, self.consumer_secret = consumer_key, consumer_secret
        self.shortcode, self.passkey = shortcode, passkey
        self.callback_delay = callback_delay
        self.check_timestamp = check_timestamp
        self.default_scenario = "success"
        self.scenarios: dict[str, str] = {}
        self.tokens: set[str] = set()
        self.oauth_calls = 0
        self.checkouts: dict[str, dict[str, Any]] = {}
        self.callbacks: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self.settled = threading.Condition(self.lock)
        self.reversals: dict[str, dict[str, Any]] = {}  # ConversationID -> request
        self.reversed_receipts: set[str] = set()
        self.reversal_timeout = False

    # -- Python control API (the HTTP control API calls these) ---------------------------------------

    def set_scenario(self, phone: str, scenario: str) -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}")
        with self.lock:
            self.scenarios[phone.lstrip("+")] = scenario

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self.scenarios.clear()
            self.default_scenario = "success"
            self.tokens.clear()
            self.oauth_calls = 0
            self.checkouts.clear()
            self.callbacks.clear()
            self.reversals.clear()
            self.reversed_receipts.clear()
            self.reversal_timeout = False

    def wait_callbacks(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Block until ``count`` callback deliveries finished (successfully or not)."""
        with self.settled:
            self.settled.wait_for(lambda: len(self.callbacks) >= count, timeout=timeout)
            return list(self.callbacks)

    def handle_control(self, method: str, path: str, payload: dict[str, Any]) -> Any:
        if method == "POST" and path == "/_fake/scenario":
            if "default" in payload:
                if payload["default"] not in SCENARIOS:
                    return {"error": f"unknown scenario {payload['default']!r}"}
                self.default_scenario = payload["default"]
            if "phone" in payload:
                try:
                    self.set_scenario(str(payload["phone"]), str(payload.get("scenario", "")))
                except ValueError as exc:
                    return {"error": str(exc)}
            return {"ok": True, "default": self.default_scenario, "scenarios": dict(self.scenarios)}
        if method == "POST" and path == "/_fake/config":
            if "callback_delay" in payload:
                self.callback_delay = float(payload["callback_delay"])
            if "reversal_timeout" in payload:
                self.reversal_timeout = bool(payload["reversal_timeout"])
            return {"ok": True, "callback_delay": self.callback_delay, "reversal_timeout": self.reversal_timeout}
        if method == "POST" and path == "/_fake/expire-tokens":
            self.expire_tokens()
            return {"ok": True}
        if method == "GET" and path == "/_fake/callbacks":
            with self.lock:
                return list(self.callbacks)
        return None

    # -- API -----------------------------------------------------------------------------------------

    def handle_api(self, handler: FakeHandler, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        if method == "GET" and path == "/oauth/v1/generate":
            self._oauth(handler, query)
        elif method == "POST" and path in ("/mpesa/stkpush/v1/processrequest", "/mpesa/stkpushquery/v1/query"):
            payload = self._authorised_json(handler, body)
            if payload is None:
                return
            if path.endswith("processrequest"):
                self._push(handler, payload)
            else:
                self._query(handler, payload)
        elif method == "POST" and path == "/mpesa/reversal/v1/request":
            payload = self._authorised_json(handler, body, stk=False)
            if payload is not None:
                self._reversal(handler, payload)
        else:
            _error(handler, 404, "404.001.01", "Resource not found")

    def _oauth(self, handler: FakeHandler, query: dict[str, str]) -> None:
        if query.get("grant_type") != "client_credentials":
            _error(handler, 400, "400.008.02", "Invalid grant type passed")
            return
        auth = handler.headers.get("Authorization", "")
        try:
            key, _, secret = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            key = secret = ""
        if not auth.startswith("Basic ") or (
            self.consumer_key is not None and (key, secret) != (self.consumer_key, self.consumer_secret)
        ):
            _error(handler, 400, "400.008.01", "Invalid Authentication passed")
            return
        token = secrets.token_urlsafe(21)
        with self.lock:
            self.tokens.add(token)
            self.oauth_calls += 1
        handler.reply_json(200, {"access_token": token, "expires_in": "3599"})

    def _authorised_json(self, handler: FakeHandler, body: bytes, *, stk: bool = True) -> dict[str, Any] | None:
        token = handler.headers.get("Authorization", "").removeprefix("Bearer ")
        with self.lock:
            valid = token in self.tokens
        if not valid:
            _error(handler, 404, "404.001.03", "Invalid Access Token")
            return None
        if handler.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            # Real Daraja's famous misleading message when the content type is missing.
            _error(handler, 400, "400.002.02", "Bad Request - Invalid BusinessShortCode")
            return None
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            _error(handler, 400, "400.002.02", "Bad Request - Invalid JSON")
            return None
        problem = self._credentials_problem(payload) if stk else None
        if problem:
            _error(handler, *problem)
            return None
        return payload

    def _credentials_problem(self, payload: dict[str, Any]) -> tuple[int, str, str] | None:
        if str(payload.get("BusinessShortCode")) != self.shortcode:
            return 500, "500.001.1001", "Merchant does not exist"
        timestamp = str(payload.get("Timestamp", ""))
        if not re.fullmatch(r"\d{14}", timestamp):
            return 400, "400.002.02", "Bad Request - Invalid Timestamp"
        if self.check_timestamp:
            sent = datetime.strptime(timestamp, "%Y%m%d%H%M%S").replace(tzinfo=NAIROBI)
            if abs(datetime.now(NAIROBI) - sent) > timedelta(minutes=10):
                return 400, "400.002.02", "Bad Request - Invalid Timestamp"
        if self.passkey is not None:
            expected = base64.b64encode(f"{self.shortcode}{self.passkey}{timestamp}".encode()).decode()
            if payload.get("Password") != expected:
                return 500, "500.001.1001", "Wrong credentials"
        return None

    def _push(self, handler: FakeHandler, p: dict[str, Any]) -> None:
        phone = str(p.get("PhoneNumber", ""))
        checks = (
            (p.get("TransactionType") in ("CustomerPayBillOnline", "CustomerBuyGoodsOnline"), "TransactionType"),
            (re.fullmatch(r"254[17]\d{8}", phone) is not None, "PhoneNumber"),
            (str(p.get("PartyA", "")) == phone, "PartyA"),
            (re.fullmatch(r"[1-9]\d*", str(p.get("Amount", ""))) is not None, "Amount"),
            (re.fullmatch(r"https?://\S+", str(p.get("CallBackURL", ""))) is not None, "CallBackURL"),
            (0 < len(str(p.get("AccountReference", ""))) <= 12, "AccountReference"),
            (len(str(p.get("TransactionDesc", ""))) <= 13, "TransactionDesc"),
        )
        for ok, field_name in checks:
            if not ok:
                _error(handler, 400, "400.002.02", f"Bad Request - Invalid {field_name}")
                return
        with self.lock:
            scenario = self.scenarios.get(phone, self.default_scenario)
        if scenario == "busy":
            _error(
                handler,
                500,
                "500.001.1001",
                "Unable to lock subscriber, a transaction is already in process for the current subscriber",
            )
            return
        if scenario == "spike":
            _error(handler, 500, "500.003.02", "Spike Arrest Violation")
            return
        n = next(self._ids)
        checkout_id = f"ws_CO_{time.strftime('%d%m%Y%H%M%S')}{n:06d}"
        merchant_id = f"{n:04d}-fake-{secrets.token_hex(4)}"
        record: dict[str, Any] = {
            "phone": phone,
            "amount": Decimal(str(p["Amount"])),
            "scenario": scenario,
            "merchant_request_id": merchant_id,
            "ready_at": time.monotonic() + self.callback_delay,
            "receipt": f"FAK{n:07d}",
            "callback_url": str(p["CallBackURL"]),
            "account_reference": p.get("AccountReference"),
        }
        with self.lock:
            self.checkouts[checkout_id] = record
        handler.reply_json(
            200,
            {
                "MerchantRequestID": merchant_id,
                "CheckoutRequestID": checkout_id,
                "ResponseCode": "0",
                "ResponseDescription": "Success. Request accepted for processing",
                "CustomerMessage": "Success. Request accepted for processing",
            },
        )
        copies = {"duplicate": 2, "no_callback": 0, "pending": 0}.get(scenario, 1)
        callback = json.dumps(self.callback_body(checkout_id)).encode()
        for i in range(copies):
            post_later(
                self.callback_delay + 0.05 * i, record["callback_url"], callback, "application/json", self._delivered
            )

    def _delivered(self, url: str, status: int | str) -> None:
        with self.settled:
            self.callbacks.append({"url": url, "status": status, "at": time.time()})
            self.settled.notify_all()

    def callback_body(self, checkout_id: str) -> dict[str, Any]:
        """The STK callback JSON for a checkout, as Daraja would POST it (docs/PROTOCOLS.md §3.4)."""
        with self.lock:
            record = dict(self.checkouts[checkout_id])
        inner: dict[str, Any] = {"MerchantRequestID": record["merchant_request_id"], "CheckoutRequestID": checkout_id}
        failure = _FAILURES.get(record["scenario"])
        if failure:
            inner.update(ResultCode=failure[0], ResultDesc=failure[1])
        else:
            amount = record["amount"] - (1 if record["scenario"] == "wrong_amount" else 0)
            inner.update(
                ResultCode=0,
                ResultDesc=_OK_DESC,
                CallbackMetadata={
                    "Item": [
                        {"Name": "Amount", "Value": float(amount)},
                        {"Name": "MpesaReceiptNumber", "Value": record["receipt"]},
                        {"Name": "Balance"},
                        {"Name": "TransactionDate", "Value": int(datetime.now(NAIROBI).strftime("%Y%m%d%H%M%S"))},
                        {"Name": "PhoneNumber", "Value": int(record["phone"])},
                    ]
                },
            )
        return {"Body": {"stkCallback": inner}}

    def _query(self, handler: FakeHandler, p: dict[str, Any]) -> None:
        checkout_id = str(p.get("CheckoutRequestID", ""))
        with self.lock:
            record = self.checkouts.get(checkout_id)
        if record is None:
            _error(handler, 400, "400.002.02", "Bad Request - Invalid CheckoutRequestID")
            return
        if record["scenario"] == "pending" or time.monotonic() < record["ready_at"]:
            _error(handler, 500, "500.001.1001", "The transaction is being processed")
            return
        code, desc = _FAILURES.get(record["scenario"], (0, _OK_DESC))
        handler.reply_json(
            200,
            {
                "ResponseCode": "0",
                "ResponseDescription": "The service request has been accepted successsfully",
                "MerchantRequestID": record["merchant_request_id"],
                "CheckoutRequestID": checkout_id,
                "ResultCode": str(code),
                "ResultDesc": desc,
            },
        )

    # -- transaction reversal ----------------------------------------------------------------------------

    def _reversal(self, handler: FakeHandler, p: dict[str, Any]) -> None:
        checks = (
            (bool(p.get("Initiator")), "Initiator"),
            (bool(p.get("SecurityCredential")), "SecurityCredential"),
            (p.get("CommandID") == "TransactionReversal", "CommandID"),
            (bool(p.get("TransactionID")), "TransactionID"),
            (re.fullmatch(r"[1-9]\d*", str(p.get("Amount", ""))) is not None, "Amount"),
            (str(p.get("ReceiverParty")) == self.shortcode, "ReceiverParty"),
            (str(p.get("RecieverIdentifierType")) in ("1", "2", "4", "11"), "RecieverIdentifierType"),
            (re.fullmatch(r"https?://\S+", str(p.get("ResultURL", ""))) is not None, "ResultURL"),
            (re.fullmatch(r"https?://\S+", str(p.get("QueueTimeOutURL", ""))) is not None, "QueueTimeOutURL"),
            (0 < len(str(p.get("Remarks", ""))) <= 100, "Remarks"),
        )
        for ok, field_name in checks:
            if not ok:
                _error(handler, 400, "400.002.02", f"Bad Request - Invalid {field_name}")
                return
        n = next(self._ids)
        conversation_id = f"AG_{time.strftime('%Y%m%d')}_{n:012d}"
        originator_id = f"{n:05d}-{secrets.randbelow(10**8):08d}-1"
        with self.lock:
            self.reversals[conversation_id] = dict(p)
        handler.reply_json(
            200,
            {
                "OriginatorConversationID": originator_id,
                "ConversationID": conversation_id,
                "ResponseCode": "0",
                "ResponseDescription": "Accept the service request successfully.",
            },
        )
        if self.reversal_timeout:
            body = {
                "Result": {
                    "ResultType": 1,
                    "ResultCode": 1,
                    "ResultDesc": "The request timed out in the queue.",
                    "OriginatorConversationID": originator_id,
                    "ConversationID": conversation_id,
                }
            }
            url = str(p["QueueTimeOutURL"])
        else:
            body = self.reversal_result_body(p, conversation_id, originator_id, n)
            url = str(p["ResultURL"])
        post_later(self.callback_delay, url, json.dumps(body).encode(), "application/json", self._delivered)

    def reversal_result_body(
        self, p: dict[str, Any], conversation_id: str, originator_id: str, n: int
    ) -> dict[str, Any]:
        """The ResultURL JSON for one reversal request, as Daraja POSTs it."""
        receipt, amount = str(p["TransactionID"]), Decimal(str(p["Amount"]))
        with self.lock:
            paid = next(
                (
                    r
                    for r in self.checkouts.values()
                    if r["receipt"] == receipt and r["scenario"] in ("success", "duplicate", "no_callback")
                ),
                None,
            )
            already = receipt in self.reversed_receipts
            ok = paid is not None and paid["amount"] == amount and not already
            if ok:
                self.reversed_receipts.add(receipt)
        result: dict[str, Any] = {
            "ResultType": 0,
            "OriginatorConversationID": originator_id,
            "ConversationID": conversation_id,
            "TransactionID": f"FAKR{n:06d}",
        }
        if already:
            result.update(ResultCode="R000001", ResultDesc="The transaction has already been reversed.")
        elif not ok or paid is None:
            result.update(ResultCode="R000002", ResultDesc="The OriginalTransactionID is invalid.")
        else:
            result.update(
                ResultCode=0,
                ResultDesc=_OK_DESC,
                ResultParameters={
                    "ResultParameter": [
                        {"Key": "Amount", "Value": float(amount)},
                        {"Key": "OriginalTransactionID", "Value": receipt},
                        {"Key": "TransCompletedTime", "Value": int(datetime.now(NAIROBI).strftime("%Y%m%d%H%M%S"))},
                        {"Key": "Charge", "Value": 0.0},
                        {"Key": "CreditPartyPublicName", "Value": f"{paid['phone']} - Customer"},
                        {"Key": "DebitPartyPublicName", "Value": f"{self.shortcode} - Merchant"},
                    ]
                },
                ReferenceData={"ReferenceItem": {"Key": "QueueTimeoutURL", "Value": str(p["QueueTimeOutURL"])}},
            )
        return {"Result": result}


def _error(handler: FakeHandler, status: int, code: str, message: str) -> None:
    handler.reply_json(
        status, {"requestId": f"fake-{secrets.token_hex(6)}", "errorCode": code, "errorMessage": message}
    )


__all__ = ["SCENARIOS", "FakeDaraja"]
