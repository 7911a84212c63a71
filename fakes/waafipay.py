"""Fake WaafiPay (docs/PROTOCOLS.md §4): one JSON endpoint, ``serviceName`` picks the operation.

Supports API_PREAUTHORIZE, API_PREAUTHORIZE_COMMIT, API_PREAUTHORIZE_CANCEL, API_PURCHASE and
API_CANCELPURCHASE. Scenarios per payer ``accountNo`` (``2526...``), else the default (``approve``):

``approve``       2001 RCS_SUCCESS, state APPROVED
``reject``        5310 RCS_USER_REJECTED           ``insufficient``  "Payment Failed (Haraaga ...)"
``wrong_pin``     "Payment Failed (Invalid PIN code)"  ``no_route``  RCS_NO_ROUTE_FOUND
``timeout``       RCS_TIMEOUT (the payer never answered)
``slow``          answers only after ``slow_seconds`` (beyond the client's timeout); the result is
                  recorded as approved at once, so a replay with the same referenceId returns APPROVED
                  (after the prompt time has passed) without a new prompt
``drop``          records the approval, then closes the connection without a reply
``unavailable``   HTTP 503

``replay_mode`` decides what a repeat of a known referenceId gets: ``recorded`` (the original answer,
our assumption) or ``reject`` (an error, the other possibility docs/PROTOCOLS.md §4.4 leaves open).

Codes marked invented below are not documented by WaafiPay; the fake needs *some* answer for them.

Control API: ``POST /_fake/scenario {"account": "252610000001", "scenario": "reject"}`` or
``{"default": "approve"}``; ``POST /_fake/config {"slow_seconds": 1, "replay_mode": "reject"}``;
``GET /_fake/transactions``; ``GET /_fake/requests``; ``POST /_fake/reset``.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from ._base import FakeHandler, FakeServer

SCENARIOS = ("approve", "reject", "insufficient", "wrong_pin", "no_route", "timeout", "slow", "drop", "unavailable")
_FAILURES = {
    "reject": ("5310", "RCS_USER_REJECTED"),
    "insufficient": ("5310", "Payment Failed (Haraaga xisaabtaadu kuguma filna, fadlan ku shubo)"),
    "wrong_pin": ("5310", "Payment Failed (Invalid PIN code)"),
    "no_route": ("5310", "RCS_NO_ROUTE_FOUND"),
    "timeout": ("5310", "RCS_TIMEOUT"),
}
FAKE_MERCHANT_UID = "M0910000"
FAKE_API_USER_ID = "1000000"
FAKE_API_KEY = "API-FAKEKEY0123456789"


class FakeWaafiPay(FakeServer):
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        merchant_uid: str | None = FAKE_MERCHANT_UID,
        api_user_id: str | None = FAKE_API_USER_ID,
        api_key: str | None = FAKE_API_KEY,
        slow_seconds: float = 2.0,
        replay_mode: str = "recorded",
        verbose: bool = False,
    ) -> None:
        super().__init__(host, port, verbose=verbose)
        self.credentials = (merchant_uid, api_user_id, api_key)
        self.slow_seconds = slow_seconds
        self.replay_mode = replay_mode
        self.default_scenario = "approve"
        self.scenarios: dict[str, str] = {}
        self.transactions: dict[str, dict[str, Any]] = {}  # by referenceId
        self.prompts = 0  # PIN prompts shown to payers; a replay must not add one
        self._ids = itertools.count(1268600)

    # -- Python control API --------------------------------------------------------------------------

    def set_scenario(self, account: str, scenario: str) -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}")
        with self.lock:
            self.scenarios[account.lstrip("+")] = scenario

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self.scenarios.clear()
            self.default_scenario = "approve"
            self.transactions.clear()
            self.prompts = 0

    def wait_settled(self, reference_id: str, timeout: float = 10.0) -> dict[str, Any] | None:
        """Wait until the payer "answered" a pending prompt; return the transaction record."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                record = self.transactions.get(reference_id)
            if record is not None and time.monotonic() >= record["ready_at"]:
                return dict(record)
            time.sleep(0.01)
        return None

    def handle_control(self, method: str, path: str, payload: dict[str, Any]) -> Any:
        if method == "POST" and path == "/_fake/scenario":
            try:
                if "default" in payload:
                    if payload["default"] not in SCENARIOS:
                        raise ValueError(f"unknown scenario {payload['default']!r}")
                    self.default_scenario = payload["default"]
                if "account" in payload:
                    self.set_scenario(str(payload["account"]), str(payload.get("scenario", "")))
            except ValueError as exc:
                return {"error": str(exc)}
            return {"ok": True, "default": self.default_scenario, "scenarios": dict(self.scenarios)}
        if method == "POST" and path == "/_fake/config":
            if "slow_seconds" in payload:
                self.slow_seconds = float(payload["slow_seconds"])
            if payload.get("replay_mode") in ("recorded", "reject"):
                self.replay_mode = payload["replay_mode"]
            return {"ok": True, "slow_seconds": self.slow_seconds, "replay_mode": self.replay_mode}
        if method == "GET" and path == "/_fake/transactions":
            with self.lock:
                return {
                    ref: {k: str(v) for k, v in rec.items() if k != "response"}
                    for ref, rec in self.transactions.items()
                }
        return None

    # -- API -----------------------------------------------------------------------------------------

    def handle_api(self, handler: FakeHandler, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        try:
            envelope = json.loads(body) if method == "POST" else None
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict) or not isinstance(envelope.get("serviceParams"), dict):
            handler.reply_json(200, _failure("5000", "RCS_INVALID_REQUEST"))  # invented code
            return
        params = envelope["serviceParams"]
        given = (params.get("merchantUid"), params.get("apiUserId"), params.get("apiKey"))
        if any(want is not None and got != want for want, got in zip(self.credentials, given, strict=True)):
            handler.reply_json(200, _failure("5001", "RCS_INVALID_CREDENTIALS"))  # invented code
            return
        service = envelope.get("serviceName")
        if service in ("API_PREAUTHORIZE", "API_PURCHASE"):
            self._pay(handler, service, params)
        elif service in ("API_PREAUTHORIZE_COMMIT", "API_PREAUTHORIZE_CANCEL", "API_CANCELPURCHASE"):
            self._follow_up(handler, service, params)
        else:
            handler.reply_json(200, _failure("5000", "RCS_UNKNOWN_SERVICE"))  # invented code

    def _pay(self, handler: FakeHandler, service: str, params: dict[str, Any]) -> None:
        info = params.get("transactionInfo") or {}
        account = str((params.get("payerInfo") or {}).get("accountNo", ""))
        reference_id = str(info.get("referenceId", ""))
        limit = 30 if service == "API_PREAUTHORIZE" else 50
        try:
            amount = Decimal(str(info.get("amount"))).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        except InvalidOperation:
            amount = Decimal(0)
        if (
            not re.fullmatch(rf"[A-Za-z0-9._-]{{{1 if limit == 50 else 10},{limit}}}", reference_id)
            or not re.fullmatch(r"\d{10,20}", account)
            or amount <= 0
        ):
            handler.reply_json(200, _failure("5000", "RCS_VALIDATION_ERROR"))  # invented code
            return
        with self.lock:
            record = self.transactions.get(reference_id)
            scenario = self.scenarios.get(account, self.default_scenario)
            if record is None:
                record = self._new_transaction(service, reference_id, account, amount, scenario)
                replay = False
            else:
                replay = True
        if replay and self.replay_mode == "reject":
            handler.reply_json(200, _failure("5000", "RCS_DUPLICATE_REFERENCE"))  # invented code
            return
        if not replay and scenario == "unavailable":
            handler.reply(503, b"Service Unavailable", "text/plain")
            return
        wait = record["ready_at"] - time.monotonic()
        if wait > 0:
            time.sleep(wait)  # the payer is still looking at the PIN prompt
        if not replay and scenario == "drop":
            handler.drop()
            return
        handler.reply_json(200, {**record["response"], "responseId": str(next(self._ids)), "timestamp": _now()})

    def _new_transaction(
        self, service: str, reference_id: str, account: str, amount: Decimal, scenario: str
    ) -> dict[str, Any]:
        self.prompts += 1
        transaction_id = str(next(self._ids))
        failure = _FAILURES.get(scenario)
        if failure:
            response = _failure(*failure)
            state = "DECLINED"
        else:
            state = "APPROVED" if service == "API_PREAUTHORIZE" else "CAPTURED"
            response = _success(
                {
                    "accountNo": account[:6] + "****" + account[-4:],
                    "accountType": "MWALLET_ACCOUNT",
                    "state": "APPROVED",
                    "merchantCharges": "0.1",
                    "referenceId": reference_id,
                    "transactionId": transaction_id,
                    "issuerTransactionId": f"ISR00{transaction_id}",
                    "txAmount": str(amount),  # after truncation to 2 decimals, like the real one
                }
            )
        delay = self.slow_seconds if scenario == "slow" else 0.0
        record = {
            "service": service,
            "account": account,
            "amount": amount,
            "state": state,
            "transaction_id": transaction_id if not failure else "",
            "scenario": scenario,
            "ready_at": time.monotonic() + delay,
            "response": response,
        }
        self.transactions[reference_id] = record
        return record

    def _follow_up(self, handler: FakeHandler, service: str, params: dict[str, Any]) -> None:
        reference_id = str(params.get("referenceId", ""))
        transaction_id = str(params.get("transactionId", ""))
        with self.lock:
            record = next(
                (
                    r
                    for ref, r in self.transactions.items()
                    if r["transaction_id"] == transaction_id
                    and transaction_id
                    and (not reference_id or ref == reference_id)
                ),
                None,
            )
            answer = self._transition(service, record)
        if isinstance(answer, tuple):
            handler.reply_json(200, _failure(*answer))
        else:
            handler.reply_json(
                200, _success({"state": "approved", "referenceId": reference_id, "transactionId": transaction_id})
            )

    @staticmethod
    def _transition(service: str, record: dict[str, Any] | None) -> tuple[str, str] | None:
        """Apply commit/cancel/reverse to a record (lock held); a tuple is a failure answer."""
        if record is None:
            return ("5000", "RCS_TRANSACTION_NOT_FOUND")  # invented code
        state = record["state"]
        if service == "API_PREAUTHORIZE_COMMIT":
            if state in ("APPROVED", "COMMITTED"):
                record["state"] = "COMMITTED"
                return None
        elif service == "API_PREAUTHORIZE_CANCEL":
            if state == "CANCELLED":
                return ("5202", "RCS_TRAN_ALREADY_CANCELLED")
            if state == "APPROVED":
                record["state"] = "CANCELLED"
                return None
        elif state in ("CAPTURED", "COMMITTED"):  # API_CANCELPURCHASE
            record["state"] = "REVERSED"
            return None
        elif state == "REVERSED":
            return ("5202", "RCS_TRAN_ALREADY_CANCELLED")
        return ("5000", f"RCS_INVALID_STATE_{state}")  # invented code


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _success(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "schemaVersion": "1.0",
        "timestamp": _now(),
        "responseId": "0",
        "responseCode": "2001",
        "errorCode": "0",
        "responseMsg": "RCS_SUCCESS",
        "params": params,
    }


def _failure(code: str, message: str) -> dict[str, Any]:
    error_code = "E10207" if code == "5202" else "E10205"
    return {
        "schemaVersion": "1.0",
        "timestamp": _now(),
        "responseId": "0",
        "responseCode": code,
        "errorCode": error_code,
        "responseMsg": message,
        "params": None,
    }
