"""Hormuud Telecom's SMS API (Somalia): OAuth token, SendSMS, delivery reports and inbound SMS.

What public integrations of the API show (docs/GATEWAYS.md keeps the detail; check against the contract
Hormuud signs with you):

- ``POST <base>/token`` with the form ``grant_type=password&username=&password=`` answers
  ``{"access_token": "...", "token_type": "bearer", "expires_in": <seconds>}``. The token is cached and
  shared between workers through Django's cache, as the Daraja token is (`payments.tokencache`).
- ``POST <base>/api/SendSMS`` with ``Authorization: Bearer <token>`` and the JSON
  ``{"mobile": "2526XXXXXXXX", "message": "...", "senderid": "KORONTO", "refid": "...", "validity": 0}``
  answers ``{"ResponseCode": "200", "ResponseMessage": "SUCCESS!.", "Data": {"MessageID": "..."}}``; any
  other ResponseCode is a refusal. HTTP 401 means the token expired: fetch a new one, try once more.
- Delivery reports and inbound messages are pushed to the URLs registered with Hormuud. Their field
  names are not published; we read the common spellings case-insensitively (``MessageID``/``refid``,
  ``Status``, ``Mobile``; ``mobile``/``from``, ``message``/``text``), and the field map is one table here.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from ..payments.tokencache import CacheLike, LocalCache, SharedToken
from ._http import never_reached
from .base import (
    DeliveryReport,
    DeliveryStatus,
    InboundSms,
    InvalidDeliveryReport,
    InvalidInbound,
    SendResult,
    SmsRejected,
    SmsSender,
    SmsUnavailable,
)
from .encoding import encoding_of

log = logging.getLogger(__name__)

# Status words seen in SMSC-style reports, in our terms; matched without case.
REPORT_STATUSES: dict[str, DeliveryStatus] = {
    "delivered": DeliveryStatus.SUCCESS,
    "delivrd": DeliveryStatus.SUCCESS,
    "success": DeliveryStatus.SUCCESS,
    "sent": DeliveryStatus.SENT,
    "submitted": DeliveryStatus.SUBMITTED,
    "accepted": DeliveryStatus.SUBMITTED,
    "acceptd": DeliveryStatus.SUBMITTED,
    "pending": DeliveryStatus.BUFFERED,
    "enroute": DeliveryStatus.BUFFERED,
    "buffered": DeliveryStatus.BUFFERED,
    "failed": DeliveryStatus.FAILED,
    "undeliv": DeliveryStatus.FAILED,
    "undelivered": DeliveryStatus.FAILED,
    "expired": DeliveryStatus.FAILED,
    "rejected": DeliveryStatus.REJECTED,
    "rejectd": DeliveryStatus.REJECTED,
}
_REPORT_FIELDS = {
    "id": ("messageid", "message_id", "refid", "id"),
    "status": ("status", "dlrstatus", "state"),
    "phone": ("mobile", "msisdn", "to"),
    "reason": ("reason", "error", "description"),
}
_INBOUND_FIELDS = {
    "sender": ("mobile", "msisdn", "from", "sender"),
    "text": ("message", "text", "body"),
    "id": ("messageid", "message_id", "id"),
    "to": ("shortcode", "to", "receiver"),
    "date": ("date", "timestamp", "time"),
}


@dataclass(frozen=True)
class HormuudConfig:
    base_url: str  # e.g. https://smsapi.hormuud.com
    username: str
    password: str
    sender_id: str = ""
    timeout: tuple[float, float] = (3.05, 15.0)

    def __repr__(self) -> str:  # never the password
        return f"HormuudConfig(base_url={self.base_url!r}, username={self.username!r})"


class HormuudSender(SmsSender):
    name = "hormuud"

    def __init__(
        self, config: HormuudConfig, *, cache: CacheLike | None = None, session: requests.Session | None = None
    ) -> None:
        if not (config.base_url and config.username and config.password):
            raise SmsRejected("HORMUUD_SMS_BASE_URL, HORMUUD_SMS_USERNAME and HORMUUD_SMS_PASSWORD are required")
        self.config = config
        self._session = session or requests.Session()
        # Keyed by a hash, so the user name does not show in Redis key listings.
        key_id = hashlib.sha256(f"{config.base_url}|{config.username}".encode()).hexdigest()[:16]
        self._token = SharedToken(cache or LocalCache(), f"hormuud-sms:token:{key_id}", self._fetch_token)

    def _url(self, path: str) -> str:
        return self.config.base_url.rstrip("/") + path

    def _fetch_token(self) -> tuple[str, float]:
        form = {"grant_type": "password", "username": self.config.username, "password": self.config.password}
        try:
            reply = self._session.post(self._url("/token"), data=form, timeout=self.config.timeout)
        except requests.RequestException as exc:  # asking for a token sends nothing: always safe to retry
            raise SmsUnavailable(f"Hormuud token endpoint unreachable: {type(exc).__name__}") from None
        body = _json(reply)
        token = body.get("access_token")
        if reply.status_code == 200 and token:
            try:
                expires_in = float(body.get("expires_in", 3600))
            except (TypeError, ValueError):
                expires_in = 3600.0
            log.info("hormuud sms token refreshed")
            return str(token), max(30.0, expires_in - min(300.0, expires_in / 10))  # renew a little early
        if reply.status_code >= 500 or reply.status_code == 429:
            raise SmsUnavailable(f"Hormuud token endpoint answered HTTP {reply.status_code}")
        raise SmsRejected(f"Hormuud refused our SMS credentials (HTTP {reply.status_code})")

    def send(self, to: str, message: str, *, sender_id: str | None = None) -> SendResult:
        ref = uuid.uuid4().hex[:20]
        payload = {
            "mobile": to.lstrip("+"),
            "message": message,
            "senderid": sender_id or self.config.sender_id,
            "refid": ref,
            "validity": 0,
        }
        for attempt in (1, 2):
            token = self._token.get()
            try:
                reply = self._session.post(
                    self._url("/api/SendSMS"),
                    json=payload,
                    timeout=self.config.timeout,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except requests.RequestException as exc:
                raise SmsUnavailable(
                    f"Hormuud SMS unreachable: {type(exc).__name__}", maybe_sent=not never_reached(exc)
                ) from None
            if reply.status_code == 401 and attempt == 1:
                self._token.invalidate(token)
                continue
            break
        return _result_for(to, reply, encoding=str(encoding_of(message)))

    def parse_delivery_report(self, form: Mapping[str, str]) -> DeliveryReport:
        return parse_hormuud_delivery_report(form)

    def parse_inbound(self, form: Mapping[str, str]) -> InboundSms:
        return parse_hormuud_inbound(form)


def _json(reply: requests.Response) -> dict[str, Any]:
    try:
        body = reply.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _result_for(to: str, reply: requests.Response, *, encoding: str) -> SendResult:
    if reply.status_code == 401:
        raise SmsRejected("Hormuud refused a fresh token (HTTP 401): check the account")
    if reply.status_code >= 500 or reply.status_code == 429:
        raise SmsUnavailable(f"Hormuud SMS answered HTTP {reply.status_code}")
    body = _json(reply)
    code = str(body.get("ResponseCode", "")).strip()
    text = str(body.get("ResponseMessage", "") or f"HTTP {reply.status_code}")[:120]
    data = body.get("Data")
    if not isinstance(data, dict):
        data = {}
    message_id = str(data.get("MessageID") or "").strip()
    if reply.status_code == 200 and code == "200" and message_id:
        return SendResult(
            to=to,
            accepted=True,
            provider_message_id=f"hormuud-{message_id}",
            status=text,
            status_code=200,
            encoding=encoding,
            raw=body,
        )
    try:
        numeric: int | None = int(code)
    except ValueError:
        numeric = None
    return SendResult(
        to=to,
        accepted=False,
        status=text,
        status_code=numeric or reply.status_code,
        retryable=numeric is not None and numeric >= 500,
        raw=body,
    )


def _pick(form: Mapping[str, str], names: tuple[str, ...]) -> str:
    lowered = {str(k).lower(): v for k, v in form.items()}
    for name in names:
        value = lowered.get(name)
        if value not in (None, ""):
            return str(value)
    return ""


def parse_hormuud_delivery_report(form: Mapping[str, str]) -> DeliveryReport:
    message_id = _pick(form, _REPORT_FIELDS["id"]).strip()
    if not message_id:
        raise InvalidDeliveryReport("Hormuud delivery report without a MessageID")
    word = _pick(form, _REPORT_FIELDS["status"]).strip().lower()
    status = REPORT_STATUSES.get(word)
    if status is None:
        raise InvalidDeliveryReport(f"unknown Hormuud delivery status {word[:20]!r}")
    return DeliveryReport(
        provider_message_id=f"hormuud-{message_id}",
        status=status,
        phone=_pick(form, _REPORT_FIELDS["phone"]),
        failure_reason=_pick(form, _REPORT_FIELDS["reason"])[:80] if status != DeliveryStatus.SUCCESS else "",
        raw={str(k): str(v) for k, v in form.items()},
    )


def parse_hormuud_inbound(form: Mapping[str, str]) -> InboundSms:
    sender = _pick(form, _INBOUND_FIELDS["sender"]).strip()
    lowered = {str(k).lower() for k in form}
    if not sender or not any(name in lowered for name in _INBOUND_FIELDS["text"]):
        raise InvalidInbound("mobile and message are required")
    if sender.isdigit() and sender.startswith("252"):
        sender = "+" + sender  # Hormuud writes international numbers without the plus
    return InboundSms(
        sender=sender,
        text=_pick(form, _INBOUND_FIELDS["text"]),
        message_id=_pick(form, _INBOUND_FIELDS["id"]).strip(),
        to=_pick(form, _INBOUND_FIELDS["to"]),
        received_at=_pick(form, _INBOUND_FIELDS["date"]),
    )
