"""Fake e-Dahab merchant API (docs/GATEWAYS.md, "e-Dahab"): IssueInvoice and CheckInvoiceStatus.

Every call is ``POST …/{Endpoint}?hash=…``; the fake checks the hash (SHA-256 of the body bytes + the API
secret) and the apiKey, as the real API is documented to (StatusCode 4 otherwise). Endpoint names match
case-insensitively (the public pages spell ``Issueinvoice`` and ``IssueInvoice``).

Scenarios per ``edahabNumber`` (national number, e.g. ``651234567``), else the default (``approve``):

``approve``        the invoice is issued Unpaid (a PIN prompt "on the phone"); it turns Paid when the test or
                   the demo approves it (``approve`` / ``POST /_fake/approve``) or after ``approve_after``
                   seconds when that is set
``instant``        IssueInvoice answers only when "the payer typed the PIN": already Paid
``decline``        issued Unpaid; the payer refuses, so a check says Invalid
``insufficient``   StatusCode 5 Insufficient_Customer_Balance on IssueInvoice
``slow``           IssueInvoice answers after ``slow_seconds`` (beyond the client's timeout); the invoice exists
``check_timeout``  like ``approve``, but the first CheckInvoiceStatus of the invoice answers after
                   ``slow_seconds`` (a lost check); later checks answer at once
``unavailable``    HTTP 503

Control API: ``POST /_fake/scenario {"number": "651234567", "scenario": "decline"}`` or ``{"default": …}``;
``POST /_fake/approve {"invoiceId": "…"}`` (or ``{"number": …}``: that number's newest unpaid invoice);
``GET /_fake/invoices``; ``GET /_fake/requests``; ``POST /_fake/reset``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from typing import Any

from ._base import FakeHandler, FakeServer

SCENARIOS = ("approve", "instant", "decline", "insufficient", "slow", "check_timeout", "unavailable")
FAKE_EDAHAB_API_KEY = "EDH-FAKEKEY-0001"
FAKE_EDAHAB_SECRET = "fake-edahab-secret"  # the fake's own demo value, not a credential
FAKE_EDAHAB_AGENT = "712345"
STATUS_TEXT = {
    0: "Success",
    1: "Api_Error",
    2: "Invalid_Json",
    3: "Validation_Error",
    4: "Invalid_Api_Credentials",
    5: "Insufficient_Customer_Balance",
    6: "Invoice_Not_Found",
}


class FakeEdahab(FakeServer):
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_key: str = FAKE_EDAHAB_API_KEY,
        secret: str = FAKE_EDAHAB_SECRET,
        slow_seconds: float = 2.0,
        approve_after: float | None = None,
        verbose: bool = False,
    ) -> None:
        super().__init__(host, port, verbose=verbose)
        self.api_key, self.secret = api_key, secret
        self.slow_seconds = slow_seconds
        self.approve_after = approve_after
        self.default_scenario = "approve"
        self.scenarios: dict[str, str] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(5_100_001)
        self._requests = itertools.count(387_000)

    # -- Python control API --------------------------------------------------------------------------

    def set_scenario(self, number: str, scenario: str) -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}")
        with self.lock:
            self.scenarios[number] = scenario

    def approve(self, invoice_id: str = "", *, number: str = "") -> str | None:
        """The payer typed the PIN: the invoice is Paid. Returns the invoice id, or None if none was open."""
        with self.lock:
            if not invoice_id:
                open_ones = [
                    i for i, rec in self.invoices.items() if rec["number"] == number and rec["status"] == "Unpaid"
                ]
                invoice_id = open_ones[-1] if open_ones else ""
            record = self.invoices.get(invoice_id)
            if record is None or record["status"] != "Unpaid":
                return None
            record["status"] = "Paid"
            record["transaction_id"] = f"MP{invoice_id[-6:]}.{len(self.invoices):04d}"
            return invoice_id

    def invoices_snapshot(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return {k: dict(v) for k, v in self.invoices.items()}

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self.scenarios.clear()
            self.invoices.clear()
            self.default_scenario = "approve"

    def handle_control(self, method: str, path: str, payload: dict[str, Any]) -> Any:
        if method == "POST" and path == "/_fake/scenario":
            try:
                if "default" in payload:
                    if payload["default"] not in SCENARIOS:
                        raise ValueError(f"unknown scenario {payload['default']!r}")
                    self.default_scenario = payload["default"]
                if "number" in payload:
                    self.set_scenario(str(payload["number"]), str(payload.get("scenario", "")))
            except ValueError as exc:
                return {"error": str(exc)}
            return {"ok": True, "default": self.default_scenario, "scenarios": dict(self.scenarios)}
        if method == "POST" and path == "/_fake/approve":
            invoice = self.approve(str(payload.get("invoiceId", "")), number=str(payload.get("number", "")))
            return {"ok": invoice is not None, "invoiceId": invoice}
        if method == "GET" and path == "/_fake/invoices":
            return self.invoices_snapshot()
        return None

    # -- API -----------------------------------------------------------------------------------------

    def handle_api(self, handler: FakeHandler, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        endpoint = path.rstrip("/").rsplit("/", 1)[-1].lower()
        if method != "POST" or endpoint not in ("issueinvoice", "checkinvoicestatus"):
            handler.reply_json(404, {"Message": "No HTTP resource was found that matches the request URI."})
            return
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            handler.reply_json(200, self._status(2))
            return
        expected = hashlib.sha256(body + self.secret.encode()).hexdigest()
        if query.get("hash", "").lower() != expected or data.get("apiKey") != self.api_key:
            handler.reply_json(200, self._status(4))
            return
        if endpoint == "issueinvoice":
            self._issue(handler, data)
        else:
            self._check(handler, data)

    def _status(self, code: int, **fields: Any) -> dict[str, Any]:
        return {
            "InvoiceStatus": None,
            "TransactionId": None,
            "InvoiceId": None,
            "ValidationErrors": None,
            **fields,
            "StatusCode": code,
            "RequestId": next(self._requests),
            "StatusDescription": STATUS_TEXT[code],
        }

    def _issue(self, handler: FakeHandler, data: dict[str, Any]) -> None:
        number, amount = str(data.get("edahabNumber", "")), data.get("amount")
        errors = []
        if not (number.isdigit() and len(number) == 9):
            errors.append({"Property": "edahabNumber", "ErrorMessage": "must be a 9-digit e-Dahab number"})
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount <= 0:
            errors.append({"Property": "amount", "ErrorMessage": "must be a positive number"})
        if data.get("currency", "USD") not in ("USD", "SLSH"):
            errors.append({"Property": "currency", "ErrorMessage": "USD or SLSH"})
        if not data.get("agentCode"):
            errors.append({"Property": "agentCode", "ErrorMessage": "required"})
        if errors:
            handler.reply_json(200, self._status(3, ValidationErrors=errors))
            return
        with self.lock:
            scenario = self.scenarios.get(number, self.default_scenario)
        if scenario == "unavailable":
            handler.reply(503, b"Service Unavailable", "text/plain")
            return
        if scenario == "insufficient":
            handler.reply_json(200, self._status(5))
            return
        invoice_id = f"INV{next(self._ids)}"
        with self.lock:
            self.invoices[invoice_id] = {
                "number": number,
                "amount": amount,
                "currency": data.get("currency", "USD"),
                "status": "Unpaid",
                "scenario": scenario,
                "transaction_id": "",
                "issued_at": time.monotonic(),
                "checks": 0,
            }
        if scenario == "instant":
            self.approve(invoice_id)
        if scenario == "slow":
            time.sleep(self.slow_seconds)  # the client gave up; the invoice stays, unpaid or paid later
        handler.reply_json(200, self._invoice_answer(invoice_id))

    def _check(self, handler: FakeHandler, data: dict[str, Any]) -> None:
        invoice_id = str(data.get("invoiceId", ""))
        with self.lock:
            record = self.invoices.get(invoice_id)
            if record is not None:
                record["checks"] += 1
                first_check = record["checks"] == 1
                if record["status"] == "Unpaid" and record["scenario"] == "decline":
                    record["status"] = "Invalid"  # the payer refused the prompt
        if record is None:
            handler.reply_json(200, self._status(6))
            return
        if record["scenario"] == "check_timeout" and first_check:
            time.sleep(self.slow_seconds)
        handler.reply_json(200, self._invoice_answer(invoice_id))

    def _invoice_answer(self, invoice_id: str) -> dict[str, Any]:
        with self.lock:
            record = self.invoices[invoice_id]
            waited = time.monotonic() - record["issued_at"]
            if (
                record["status"] == "Unpaid"
                and self.approve_after is not None
                and waited >= self.approve_after
                and record["scenario"] in ("approve", "check_timeout", "slow")
            ):
                self.approve(invoice_id)
            return self._status(
                0, InvoiceStatus=record["status"], TransactionId=record["transaction_id"] or None, InvoiceId=invoice_id
            )
