"""Fake Hormuud SMS API (vending/sms/hormuud.py, docs/GATEWAYS.md).

``POST /token`` takes ``grant_type=password&username=&password=`` and answers ``{"access_token", "token_type",
"expires_in"}`` (400 ``invalid_grant`` for wrong credentials). ``POST /api/SendSMS`` needs ``Authorization:
Bearer <token>`` (401 otherwise, or once the token expired) and the JSON ``{mobile, message, senderid}``;
it answers ``{"ResponseCode": "200", "ResponseMessage": "SUCCESS!.", "Data": {"MessageID": ...}}``.

Knobs (attributes or ``POST /_fake/config``): ``http_error`` (answer every send with that status),
``send_delay`` (seconds before a send is answered),
``token_ttl`` (seconds), ``dlr_url`` + ``dlr_delay`` (POST a JSON delivery report there), ``mo_url`` (where
``POST /_fake/inbound {"mobile", "message"}`` delivers an inbound SMS). Per-number refusals:
``POST /_fake/recipient {"mobile": "2526...", "code": "201", "message": "Invalid mobile"}``.
Read what was sent: ``GET /_fake/messages``; tokens issued: ``GET /_fake/tokens``.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qs

from ._base import FakeHandler, FakeServer, post_later

FAKE_HORMUUD_USERNAME = "fake-hormuud-user"
FAKE_HORMUUD_PASSWORD = "fake-hormuud-password"


class FakeHormuud(FakeServer):
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        username: str = FAKE_HORMUUD_USERNAME,
        password: str = FAKE_HORMUUD_PASSWORD,
        token_ttl: float = 3600.0,
        dlr_url: str = "",
        dlr_delay: float = 0.0,
        mo_url: str = "",
        verbose: bool = False,
    ) -> None:
        super().__init__(host, port, verbose=verbose)
        self.username, self.password = username, password
        self.token_ttl = token_ttl
        self.dlr_url, self.dlr_delay, self.mo_url = dlr_url, dlr_delay, mo_url
        self.http_error: int | None = None
        self.send_delay = 0.0  # seconds before answering a send (a slow or stuck gateway)
        self.tokens: dict[str, float] = {}  # token -> expiry (monotonic)
        self.tokens_issued = 0
        self.refusals: dict[str, tuple[str, str]] = {}  # mobile -> (ResponseCode, ResponseMessage)
        self.messages: list[dict[str, Any]] = []
        self.reports: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self.messages.clear()
            self.reports.clear()
            self.refusals.clear()
            self.http_error = None

    # -- control --------------------------------------------------------------------------------------

    def handle_control(self, method: str, path: str, payload: dict[str, Any]) -> Any:
        if method == "GET" and path == "/_fake/messages":
            with self.lock:
                return list(self.messages)
        if method == "GET" and path == "/_fake/tokens":
            return {"issued": self.tokens_issued}
        if method == "POST" and path == "/_fake/config":
            for name in ("dlr_url", "mo_url"):
                if name in payload:
                    setattr(self, name, str(payload[name]))
            for name in ("dlr_delay", "token_ttl", "send_delay"):
                if name in payload:
                    setattr(self, name, float(payload[name]))
            if "http_error" in payload:
                self.http_error = int(payload["http_error"]) if payload["http_error"] else None
            return {"ok": True}
        if method == "POST" and path == "/_fake/recipient":
            self.refuse(str(payload["mobile"]), str(payload.get("code", "201")), str(payload.get("message", "")))
            return {"ok": True}
        if method == "POST" and path == "/_fake/inbound":
            return self.send_inbound(str(payload.get("mobile", "")), str(payload.get("message", "")))
        return None

    def refuse(self, mobile: str, code: str = "201", message: str = "Invalid mobile number") -> None:
        with self.lock:
            self.refusals[mobile.lstrip("+")] = (code, message)

    def send_inbound(self, mobile: str, message: str) -> dict[str, Any]:
        """Deliver an SMS from ``mobile`` to our inbound URL, as Hormuud pushes one."""
        body = {
            "MessageID": f"HMO{next(self._ids):08d}",
            "Mobile": mobile.lstrip("+"),
            "Message": message,
            "ShortCode": "44135",
            "Date": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        post_later(0, self.mo_url, json.dumps(body).encode(), "application/json", lambda url, status: None)
        return {"ok": True, "MessageID": body["MessageID"]}

    # -- API ------------------------------------------------------------------------------------------

    def handle_api(self, handler: FakeHandler, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        if method == "POST" and path == "/token":
            self._token(handler, body)
        elif method == "POST" and path == "/api/SendSMS":
            self._send(handler, body)
        else:
            handler.reply_json(404, {"Message": f"No HTTP resource was found that matches {path}"})

    def _token(self, handler: FakeHandler, body: bytes) -> None:
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "password":
            handler.reply_json(400, {"error": "unsupported_grant_type"})
            return
        if form.get("username") != self.username or form.get("password") != self.password:
            handler.reply_json(
                400, {"error": "invalid_grant", "error_description": "The user name or password is incorrect."}
            )
            return
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = time.monotonic() + self.token_ttl
            self.tokens_issued += 1
        handler.reply_json(200, {"access_token": token, "token_type": "bearer", "expires_in": int(self.token_ttl)})

    def _authorised(self, handler: FakeHandler) -> bool:
        auth = handler.headers.get("Authorization", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""
        with self.lock:
            expiry = self.tokens.get(token)
        return expiry is not None and expiry > time.monotonic()

    def _send(self, handler: FakeHandler, body: bytes) -> None:
        if self.send_delay:
            time.sleep(self.send_delay)
        if not self._authorised(handler):
            handler.reply_json(401, {"Message": "Authorization has been denied for this request."})
            return
        if self.http_error:
            handler.reply_json(self.http_error, {"Message": "An error has occurred."})
            return
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or not payload.get("mobile") or not payload.get("message"):
            handler.reply_json(
                200, {"ResponseCode": "203", "ResponseMessage": "mobile and message are required", "Data": None}
            )
            return
        mobile = str(payload["mobile"])
        with self.lock:
            refusal = self.refusals.get(mobile)
        if refusal is not None or not mobile.isdigit():
            code, text = refusal or ("201", "Invalid mobile number")
            handler.reply_json(200, {"ResponseCode": code, "ResponseMessage": text, "Data": None})
            return
        message_id = f"{next(self._ids):012d}"
        with self.lock:
            self.messages.append(
                {
                    "id": message_id,
                    "mobile": mobile,
                    "message": str(payload["message"]),
                    "senderid": str(payload.get("senderid", "")),
                    "refid": payload.get("refid"),
                }
            )
        handler.reply_json(
            200,
            {
                "ResponseCode": "200",
                "ResponseMessage": "SUCCESS!.",
                "Data": {"MessageID": message_id, "Description": "Success"},
            },
        )
        if self.dlr_url:
            report = {"MessageID": message_id, "Mobile": mobile, "Status": "Delivered"}

            def done(url: str, status: int | str) -> None:
                with self.lock:
                    self.reports.append({**report, "delivery": status})

            post_later(self.dlr_delay, self.dlr_url, json.dumps(report).encode(), "application/json", done)
