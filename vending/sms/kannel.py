"""Kannel: send through smsbox's HTTP interface, read its delivery reports and MO requests (docs/GATEWAYS.md).

Kannel speaks SMPP (or another SMSC protocol) to the operator and plain HTTP to us:

- send: ``GET <sendsms-url>?username=&password=&to=&text=&from=&coding=&charset=UTF-8&dlr-mask=&dlr-url=``.
  smsbox answers ``202 0: Accepted for delivery`` (or ``3: Queued for later delivery``); a wrong user
  or password is ``403``, a request it cannot use (no receiver, no text) a ``4xx``, a full queue ``503``.
- ``coding`` is 0 for GSM-7 and 2 for UCS-2; with ``charset=UTF-8`` smsbox converts our UTF-8 text itself.
- delivery reports: Kannel calls the ``dlr-url`` we gave, replacing escapes: ``%d`` is the report type
  (1 delivered to the phone, 2 failed at the phone, 4 buffered, 8 accepted by the SMSC, 16 refused by
  the SMSC; ``dlr-mask`` is the sum of the types we want), ``%A`` the SMSC's answer text, ``%T`` the time.
  Our own message id goes into the dlr-url, so a report needs no lookup of Kannel's ids.
- MO: the ``sms-service`` ``get-url`` of deploy/kannel/kannel.conf.in calls
  ``/hooks/sms/kannel/<secret>/?from=%p&to=%P&text=%a&id=%I&smsc=%i&time=%T``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

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
from .encoding import Encoding, encoding_of
from .keepalive import KeepAliveClient, MaybeReached, NotReached

# Kannel's report types (the dlr-mask bits) in our words.
DLR_TYPES: dict[str, DeliveryStatus] = {
    "1": DeliveryStatus.SUCCESS,
    "2": DeliveryStatus.FAILED,
    "4": DeliveryStatus.BUFFERED,
    "8": DeliveryStatus.SUBMITTED,
    "16": DeliveryStatus.REJECTED,
}
ALL_REPORTS = 1 | 2 | 4 | 8 | 16
CODING = {Encoding.GSM7: "0", Encoding.UCS2: "2"}


@dataclass(frozen=True)
class KannelConfig:
    sendsms_url: str  # e.g. http://127.0.0.1:13013/cgi-bin/sendsms
    username: str
    password: str
    sender_id: str = ""  # Kannel's "from"; empty leaves smsbox's global-sender
    dlr_url: str = ""  # /hooks/sms/kannel/<secret>/delivery/ on our public address; empty: no reports
    dlr_mask: int = ALL_REPORTS
    smsc: str = ""  # route to one smsc-id of bearerbox; empty lets bearerbox choose
    timeout: tuple[float, float] = (3.05, 10.0)

    def __repr__(self) -> str:  # the password and the dlr-url (it holds our webhook secret) stay out of logs
        return f"KannelConfig(sendsms_url={self.sendsms_url!r}, username={self.username!r})"


class KannelSender(SmsSender):
    name = "kannel"

    def __init__(self, config: KannelConfig) -> None:
        if not (config.sendsms_url and config.username and config.password):
            raise SmsRejected("KANNEL_SENDSMS_URL, KANNEL_USERNAME and KANNEL_PASSWORD are required")
        self.config = config
        # smsbox sits next to koronto (loopback or a private network): a kept-alive connection of our
        # own, never through an HTTP proxy (keepalive.py says why not `requests`).
        self._client = KeepAliveClient(
            config.sendsms_url, connect_timeout=config.timeout[0], read_timeout=config.timeout[1]
        )

    def _dlr_url(self, message_id: str) -> str:
        joiner = "&" if "?" in self.config.dlr_url else "?"
        # Kannel replaces %d, %A and %T when it calls; our id is plain hex, so it has no % of its own.
        return f"{self.config.dlr_url}{joiner}id={message_id}&type=%d&answer=%A&at=%T"

    def send(self, to: str, message: str, *, sender_id: str | None = None) -> SendResult:
        message_id = f"kannel-{uuid.uuid4().hex}"
        encoding = encoding_of(message)
        params = {
            "username": self.config.username,
            "password": self.config.password,
            "to": to,
            "text": message,
            "coding": CODING[encoding],
            "charset": "UTF-8",
        }
        if sender_id or self.config.sender_id:
            params["from"] = sender_id or self.config.sender_id
        if self.config.smsc:
            params["smsc"] = self.config.smsc
        if self.config.dlr_url:
            params.update({"dlr-mask": str(self.config.dlr_mask), "dlr-url": self._dlr_url(message_id)})
        try:
            # Errors name only the exception type: the query holds the password.
            status, body = self._client.get(f"{self._client.path}?{urlencode(params)}")
        except NotReached as exc:
            raise SmsUnavailable(f"Kannel unreachable: {exc}") from None
        except MaybeReached as exc:
            raise SmsUnavailable(f"Kannel did not answer: {exc}", maybe_sent=True) from None
        text = body.strip()[:200]
        if status == 202 or (status == 200 and text[:2] in ("0:", "3:")):
            return SendResult(
                to=to,
                accepted=True,
                provider_message_id=message_id,
                status=text,
                status_code=status,
                encoding=str(encoding),
                raw={"reply": text},
            )
        if status in (401, 403):
            raise SmsRejected(f"Kannel refused our sendsms user (HTTP {status}): {text}")
        if status >= 500:
            # 503 "Temporal failure": smsbox or bearerbox is full or has no SMSC up. It answered, so it
            # did not take the message: another gateway may.
            raise SmsUnavailable(f"Kannel cannot take the message now (HTTP {status}): {text}")
        return SendResult(
            to=to,
            accepted=False,
            status=text or f"HTTP {status}",
            status_code=status,
            retryable=False,
            raw={"reply": text},
        )

    def parse_delivery_report(self, form: Mapping[str, str]) -> DeliveryReport:
        return parse_kannel_delivery_report(form)

    def parse_inbound(self, form: Mapping[str, str]) -> InboundSms:
        return parse_kannel_inbound(form)


def parse_kannel_delivery_report(form: Mapping[str, str]) -> DeliveryReport:
    message_id = str(form.get("id") or "").strip()
    if not message_id.startswith("kannel-"):
        raise InvalidDeliveryReport("Kannel delivery report without our message id")
    kind = str(form.get("type") or "").strip()
    status = DLR_TYPES.get(kind)
    if status is None:
        raise InvalidDeliveryReport(f"unknown Kannel report type {kind[:8]!r}")
    answer = str(form.get("answer") or "")[:80]
    return DeliveryReport(
        provider_message_id=message_id,
        status=status,
        failure_reason=answer if status in (DeliveryStatus.FAILED, DeliveryStatus.REJECTED) else "",
        raw={str(k): str(v) for k, v in form.items()},
    )


def parse_kannel_inbound(form: Mapping[str, str]) -> InboundSms:
    sender, text = str(form.get("from") or "").strip(), form.get("text")
    if not sender or text is None:
        raise InvalidInbound("from and text are required")
    return InboundSms(
        sender=sender,
        text=str(text),
        message_id=str(form.get("id") or "").strip(),
        to=str(form.get("to") or ""),
        received_at=str(form.get("time") or ""),
    )
