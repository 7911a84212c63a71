"""Fake Africa's Talking SMS API (docs/PROTOCOLS.md §2.2, 2.3).

``POST /version1/messaging`` takes the SDK's form (username, to, message, bulkSMSMode, from, enqueue),
checks the ``apiKey`` header, and answers like AT: HTTP 201 ``Content-Type: application/json`` with
``SMSMessageData.Recipients`` (per-recipient ``statusCode``). Without ``Accept: application/json`` it
answers XML, as AT does.

Knobs (Python attributes or ``POST /_fake/config``): ``content_type`` (e.g.
``application/json; charset=utf-8`` to exercise the SDK quirk), ``http_error`` (answer every send with
that status), ``dlr_url`` + ``dlr_delay`` (POST delivery reports there), ``sender_ids`` (allowed ids).
Per-recipient refusals: ``POST /_fake/recipient {"number": "+2547...", "status_code": 403,
"dlr_status": "Failed", "failure_reason": "UserInBlackList"}``. Read sent messages: ``GET /_fake/messages``.
"""

from __future__ import annotations

import itertools
import re
from typing import Any
from urllib.parse import parse_qs, urlencode

from ._base import FakeHandler, FakeServer, post_later

STATUS_NAMES = {
    100: "Processed",
    101: "Success",
    102: "Queued",
    401: "RiskHold",
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    405: "InsufficientBalance",
    406: "UserInBlacklist",
    407: "CouldNotRoute",
    409: "DoNotDisturbRejection",
    500: "InternalServerError",
    501: "GatewayError",
    502: "RejectedByGateway",
}
FAKE_AT_USERNAME = "fakeuser"
FAKE_AT_API_KEY = "fake-at-key"


class FakeAfricasTalking(FakeServer):
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        username: str | None = FAKE_AT_USERNAME,
        api_key: str | None = FAKE_AT_API_KEY,
        content_type: str = "application/json",
        dlr_url: str = "",
        dlr_delay: float = 0.0,
        verbose: bool = False,
    ) -> None:
        super().__init__(host, port, verbose=verbose)
        self.username, self.api_key = username, api_key
        self.content_type = content_type
        self.http_error: int | None = None
        self.dlr_url, self.dlr_delay = dlr_url, dlr_delay
        self.sender_ids: set[str] | None = None  # None: any sender id is allowed
        self.recipient_rules: dict[str, dict[str, Any]] = {}
        self.messages: list[dict[str, Any]] = []
        self.reports: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def set_recipient(
        self, number: str, status_code: int = 101, *, dlr_status: str = "Success", failure_reason: str = ""
    ) -> None:
        with self.lock:
            self.recipient_rules[number] = {
                "status_code": status_code,
                "dlr_status": dlr_status,
                "failure_reason": failure_reason,
            }

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self.messages.clear()
            self.reports.clear()
            self.recipient_rules.clear()
            self.http_error = None

    def handle_control(self, method: str, path: str, payload: dict[str, Any]) -> Any:
        if method == "GET" and path == "/_fake/messages":
            with self.lock:
                return list(self.messages)
        if method == "GET" and path == "/_fake/reports":
            with self.lock:
                return list(self.reports)
        if method == "POST" and path == "/_fake/config":
            for name in ("content_type", "dlr_url"):
                if name in payload:
                    setattr(self, name, str(payload[name]))
            if "dlr_delay" in payload:
                self.dlr_delay = float(payload["dlr_delay"])
            if "http_error" in payload:
                self.http_error = int(payload["http_error"]) if payload["http_error"] else None
            if "sender_ids" in payload:
                self.sender_ids = set(payload["sender_ids"]) if payload["sender_ids"] is not None else None
            return {"ok": True}
        if method == "POST" and path == "/_fake/recipient":
            self.set_recipient(
                str(payload["number"]),
                int(payload.get("status_code", 101)),
                dlr_status=str(payload.get("dlr_status", "Success")),
                failure_reason=str(payload.get("failure_reason", "")),
            )
            return {"ok": True}
        return None

    def handle_api(self, handler: FakeHandler, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        if not (method == "POST" and path == "/version1/messaging"):
            handler.reply(404, b"Not Found", "text/plain")
            return
        if self.api_key is not None and handler.headers.get("apiKey") != self.api_key:
            handler.reply(401, b"The supplied authentication is invalid", "text/plain")
            return
        form = {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        if self.username is not None and form.get("username") != self.username:
            handler.reply(401, b"The supplied authentication is invalid", "text/plain")
            return
        if self.http_error:
            handler.reply(self.http_error, b"Internal Server Error", "text/plain")
            return
        if not form.get("to") or not form.get("message"):
            handler.reply(400, b"Request is missing required form field 'to' or 'message'", "text/plain")
            return
        sender = form.get("from")
        if sender and self.sender_ids is not None and sender not in self.sender_ids:
            data: dict[str, Any] = {"SMSMessageData": {"Message": "InvalidSenderId", "Recipients": []}}
        else:
            data = {"SMSMessageData": self._send(form)}
        if "application/json" not in handler.headers.get("Accept", ""):
            handler.reply(201, _as_xml(data).encode(), "application/xml")
            return
        handler.reply_json(201, data, content_type=self.content_type)

    def _send(self, form: dict[str, str]) -> dict[str, Any]:
        recipients, total = [], 0
        for number in form["to"].split(","):
            number = number.strip()
            with self.lock:
                rule = self.recipient_rules.get(
                    number, {"status_code": 101, "dlr_status": "Success", "failure_reason": ""}
                )
            code = rule["status_code"] if re.fullmatch(r"\+\d{6,15}", number) else 403
            ok = code in (100, 101, 102)
            message_id = f"ATXid_fake{next(self._ids):06d}" if ok else "None"
            cost = "KES 0.8000" if ok else "0"
            total += ok
            recipients.append(
                {
                    "statusCode": code,
                    "number": number,
                    "status": STATUS_NAMES.get(code, "Failed"),
                    "cost": cost,
                    "messageId": message_id,
                }
            )
            if ok:
                with self.lock:
                    self.messages.append(
                        {
                            "id": message_id,
                            "to": number,
                            "message": form["message"],
                            "from": form.get("from", ""),
                            "enqueue": form.get("enqueue", ""),
                            "bulkSMSMode": form.get("bulkSMSMode", ""),
                        }
                    )
                if self.dlr_url:
                    self._report_later(message_id, number, rule)
        return {
            "Message": f"Sent to {total}/{len(recipients)} Total Cost: KES {0.8 * total:.4f}",
            "Recipients": recipients,
        }

    def _report_later(self, message_id: str, number: str, rule: dict[str, Any]) -> None:
        fields = {"id": message_id, "status": rule["dlr_status"], "phoneNumber": number, "networkCode": "63902"}
        if rule["failure_reason"]:
            fields["failureReason"] = rule["failure_reason"]

        def done(url: str, status: int | str) -> None:
            with self.lock:
                self.reports.append({**fields, "delivery": status})

        post_later(self.dlr_delay, self.dlr_url, urlencode(fields).encode(), "application/x-www-form-urlencoded", done)


def _as_xml(data: dict[str, Any]) -> str:
    block = data["SMSMessageData"]
    rows = "".join(
        f"<Recipient><number>{r['number']}</number><status>{r['status']}</status>"
        f"<statusCode>{r['statusCode']}</statusCode><messageId>{r['messageId']}</messageId></Recipient>"
        for r in block["Recipients"]
    )
    return (
        f"<AfricasTalkingResponse><SMSMessageData><Message>{block['Message']}</Message>"
        f"<Recipients>{rows}</Recipients></SMSMessageData></AfricasTalkingResponse>"
    )
