"""Africa's Talking SMS sender on the official SDK 2.0.3 (docs/PROTOCOLS.md §2.2).

The SDK has no public base-URL option, so we own an ``SMSService`` instance and set its private
``_baseUrl`` from ``AT_API_BASE_URL`` (the SDK version is pinned to 2.0.x in pyproject for that reason).
We call ``send`` synchronously and never pass ``callback=`` (that would start a bare thread).

The SDK's ``send`` posts through ``requests.post``: a new session and a new connection (TCP, and TLS against
the real API) for every SMS, and the proxy variables read each time; that was most of the CPU of a send.
Unless a proxy applies to the AT URL, the sender posts the same form (the SDK's URL, headers and recipient
check) over a kept-alive connection per thread instead (`keepalive.KeepAliveClient`, as for Kannel), and
reads the reply as the SDK would (a body outside 2xx is the error). With a proxy it goes through the SDK.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import africastalking
import requests
from africastalking.Service import AfricasTalkingException, validate_phone

from ._http import never_reached
from .base import (
    DeliveryReport,
    InboundSms,
    InvalidInbound,
    SendResult,
    SmsRejected,
    SmsSender,
    SmsUnavailable,
)
from .keepalive import KeepAliveClient, MaybeReached, NotReached
from .reports import parse_at_delivery_report

log = logging.getLogger(__name__)

ACCEPTED_CODES = frozenset({100, 101, 102})
# Refusals that may pass later: our balance, routing and gateway trouble (docs/PROTOCOLS.md §2.2 list, unconfirmed).
RETRYABLE_CODES = frozenset({405, 407, 500, 501, 502})
# The SDK hides the HTTP status of a non-2xx reply; only the body text reaches us. These words mark
# errors a retry cannot fix (bad key, bad username, bad sender id).
_PERMANENT_WORDS = re.compile(r"authentication|invalid|not found|unsupported|blacklist", re.IGNORECASE)


@dataclass(frozen=True)
class AfricasTalkingConfig:
    username: str
    api_key: str
    base_url: str = ""  # e.g. "https://api.africastalking.com"; empty keeps the SDK's own choice
    sender_id: str = ""
    enqueue: bool = True
    timeout: tuple[float, float] = (3.05, 9.05)

    def __repr__(self) -> str:  # never show the key
        return f"AfricasTalkingConfig(username={self.username!r}, base_url={self.base_url!r})"


class AfricasTalkingSender(SmsSender):
    name = "africastalking"

    def __init__(self, config: AfricasTalkingConfig) -> None:
        if not config.username or not config.api_key:
            raise SmsRejected("AT_USERNAME and AT_API_KEY are required")
        self.config = config
        self._service = africastalking.SMSService(config.username, config.api_key)
        if config.base_url:
            self._service._baseUrl = config.base_url.rstrip("/") + "/version1"
        url = self._service._make_url("/messaging")
        self._client: KeepAliveClient | None = None
        if not requests.utils.get_environ_proxies(url):  # a proxy for AT: the SDK's requests honours it
            connect, read = config.timeout
            self._client = KeepAliveClient(url, connect_timeout=connect, read_timeout=read)
            self._headers = {**self._service._headers, "Content-Type": "application/x-www-form-urlencoded"}

    def send(self, to: str, message: str, *, sender_id: str | None = None) -> SendResult:
        if self._client is not None:
            return self._send_kept_alive(to, message, sender_id=sender_id or self.config.sender_id)
        try:
            reply = self._service.send(
                message,
                [to],
                sender_id=sender_id or self.config.sender_id or None,
                enqueue=self.config.enqueue,
                timeout=self.config.timeout,
            )
        except ValueError as exc:  # the SDK checks ^\+\d{1,3}\d{3,}$ before any HTTP call
            raise SmsRejected(f"recipient is not E.164 with +: {exc}") from exc
        except AfricasTalkingException as exc:
            text = str(exc)[:300]
            if _PERMANENT_WORDS.search(text):
                raise SmsRejected(f"Africa's Talking refused: {text}") from exc
            raise SmsUnavailable(f"Africa's Talking error: {text}") from exc
        except requests.RequestException as exc:
            # Refused or timed out while connecting: AT never saw the message. Any other failure (a read
            # timeout, a dropped reply) may follow a send that went through.
            raise SmsUnavailable(
                f"Africa's Talking unreachable: {type(exc).__name__}", maybe_sent=not never_reached(exc)
            ) from exc
        data = _as_json(reply)
        return _result_for(to, data)

    def _send_kept_alive(self, to: str, message: str, *, sender_id: str) -> SendResult:
        """The SDK's `send`, over this thread's kept-alive connection (the form of docs/PROTOCOLS.md §2.2)."""
        assert self._client is not None
        if not validate_phone(to):  # the SDK's own check, before any HTTP call
            raise SmsRejected("recipient is not E.164 with +")
        form: dict[str, str | int] = {"username": self.config.username, "to": to, "message": message, "bulkSMSMode": 1}
        if sender_id:
            form["from"] = sender_id
        if self.config.enqueue:
            form["enqueue"] = 1
        try:
            status, text = self._client.post(self._client.path, urlencode(form).encode(), self._headers)
        except NotReached as exc:  # refused, unresolvable, connect timeout: AT never saw the message
            raise SmsUnavailable(f"Africa's Talking unreachable: {exc}", maybe_sent=False) from None
        except MaybeReached as exc:  # a read timeout or a dropped reply may follow a send that went through
            raise SmsUnavailable(f"Africa's Talking unreachable: {exc}", maybe_sent=True) from None
        if not 200 <= status < 300:
            if _PERMANENT_WORDS.search(text[:300]):
                raise SmsRejected(f"Africa's Talking refused: {text[:300]}")
            raise SmsUnavailable(f"Africa's Talking error: {text[:300]}")
        return _result_for(to, _as_json(text))

    def parse_delivery_report(self, form: Mapping[str, str]) -> DeliveryReport:
        return parse_at_delivery_report(form)

    def parse_inbound(self, form: Mapping[str, str]) -> InboundSms:
        return parse_at_inbound(form)


def parse_at_inbound(form: Mapping[str, str]) -> InboundSms:
    """AT's inbound form (docs/PROTOCOLS.md §2.1): from, to, text, date, id, linkId, networkCode."""
    sender, text = str(form.get("from") or "").strip(), form.get("text")
    if not sender or text is None:
        raise InvalidInbound("from and text are required")
    return InboundSms(
        sender=sender,
        text=str(text),
        message_id=str(form.get("id") or "").strip(),
        to=str(form.get("to") or ""),
        received_at=str(form.get("date") or ""),
    )


def _as_json(reply: Any) -> Mapping[str, Any]:
    # Content-type quirk: the SDK parses JSON only for exactly "application/json"; otherwise a str arrives.
    if isinstance(reply, str):
        try:
            reply = json.loads(reply)
        except ValueError as exc:
            raise SmsUnavailable(f"unreadable Africa's Talking reply: {reply[:120]!r}") from exc
    if not isinstance(reply, dict) or not isinstance(reply.get("SMSMessageData"), dict):
        raise SmsUnavailable("Africa's Talking reply without SMSMessageData")
    return reply


def _result_for(to: str, data: Mapping[str, Any]) -> SendResult:
    block = data["SMSMessageData"]
    recipients = [r for r in block.get("Recipients") or [] if isinstance(r, dict)]
    mine = next((r for r in recipients if r.get("number") == to), recipients[0] if recipients else None)
    if mine is None:
        # AT answers an account-level refusal (e.g. InvalidSenderId) with no recipients at all.
        message = str(block.get("Message", ""))
        log.warning("Africa's Talking accepted no recipient: %s", message)
        return SendResult(to=to, accepted=False, status=message, raw=data)
    raw_code = mine.get("statusCode")
    try:
        code: int | None = int(raw_code) if raw_code is not None else None
    except (TypeError, ValueError):
        code = None
    accepted = code in ACCEPTED_CODES
    return SendResult(
        to=to,
        accepted=accepted,
        provider_message_id=str(mine.get("messageId") or ""),
        status=str(mine.get("status", "")),
        status_code=code,
        cost=str(mine.get("cost", "")),
        retryable=(not accepted) and code in RETRYABLE_CODES,
        raw=data,
    )
