"""The SMS sender interface and its value types.

``send(to, message)`` sends to one recipient and returns a :class:`SendResult`. A per-recipient refusal
(e.g. AT statusCode 403 InvalidPhoneNumber inside an HTTP 200) is data: ``accepted=False`` with
``retryable`` telling whether a later attempt may work. Transport and account-level failures raise
:class:`SmsUnavailable` (retry with backoff) or :class:`SmsRejected` (do not retry; fix config).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class SmsError(Exception):
    pass


class SmsUnavailable(SmsError):
    """Transient: retry later. (After a read timeout the SMS may have gone out; a resend can duplicate.)

    ``maybe_sent`` says the gateway may have taken the message (a read timeout, a dropped reply): the
    router must not hand such a message to another gateway, or the customer could get it twice.
    ``attempts`` carries what the router tried before giving up, for the audit."""

    def __init__(self, message: str = "", *, maybe_sent: bool = False, attempts: tuple[Attempt, ...] = ()) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent
        self.attempts = attempts


class SmsRejected(SmsError):
    """Permanent: bad credentials, bad sender id, invalid recipient format."""


class InvalidDeliveryReport(SmsError):
    pass


class InvalidInbound(SmsError):
    """An inbound-SMS request without what every message must carry (a sender and a text)."""


class AttemptOutcome(StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"  # the gateway answered no (per recipient or for the account)
    UNAVAILABLE = "unavailable"  # it could not take the message now (down, busy, 5xx)


@dataclass(frozen=True, kw_only=True)
class Attempt:
    """One try of one gateway for one message: what the audit and the dashboard count."""

    route: str
    gateway: str
    outcome: AttemptOutcome
    detail: str = ""
    provider_message_id: str = ""


class DeliveryStatus(StrEnum):
    SENT = "Sent"
    SUBMITTED = "Submitted"
    BUFFERED = "Buffered"
    SUCCESS = "Success"
    REJECTED = "Rejected"
    FAILED = "Failed"

    @property
    def is_final(self) -> bool:
        return self in (DeliveryStatus.SUCCESS, DeliveryStatus.REJECTED, DeliveryStatus.FAILED)


@dataclass(frozen=True, kw_only=True)
class SendResult:
    to: str
    accepted: bool
    provider_message_id: str = ""  # match delivery reports on it; unique
    status: str = ""  # provider's word, e.g. "Success", "InvalidPhoneNumber"
    status_code: int | None = None
    cost: str = ""  # as the provider wrote it, e.g. "KES 0.8000"
    retryable: bool = False  # only meaningful when not accepted
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)
    gateway: str = ""  # the gateway that carried it (set by the router; a sender sets its own name)
    route: str = ""  # the route table entry that chose the gateway ("" outside the router)
    encoding: str = ""  # "gsm7" or "ucs2"
    segments: int = 1  # SMS segments billed for this message
    attempts: tuple[Attempt, ...] = ()  # every gateway tried, in order, the last one carrying it


@dataclass(frozen=True, kw_only=True)
class DeliveryReport:
    provider_message_id: str
    status: DeliveryStatus
    phone: str = ""
    network_code: str = ""
    failure_reason: str = ""  # e.g. "UserInBlackList"; only with Rejected/Failed, and not always
    retry_count: int | None = None
    raw: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def is_final(self) -> bool:
        return self.status.is_final

    @property
    def delivered(self) -> bool:
        return self.status == DeliveryStatus.SUCCESS


@dataclass(frozen=True, kw_only=True)
class InboundSms:
    """An SMS a customer sent us, as a gateway's request carried it."""

    sender: str  # as the gateway wrote it; normalised by the caller
    text: str
    message_id: str = ""  # the gateway's id; repeats of one message share it
    to: str = ""  # our short code or long number
    received_at: str = ""  # the gateway's timestamp, as written


class SmsSender(abc.ABC):
    name: str = ""

    @abc.abstractmethod
    def send(self, to: str, message: str, *, sender_id: str | None = None) -> SendResult:
        """Send `message` to `to`; `sender_id` (the route's) overrides the configured one."""

    @abc.abstractmethod
    def parse_delivery_report(self, form: Mapping[str, str]) -> DeliveryReport: ...

    def parse_inbound(self, form: Mapping[str, str]) -> InboundSms:
        """An inbound SMS from this gateway's request fields; raises InvalidInbound."""
        raise InvalidInbound(f"{self.name or type(self).__name__} does not receive SMS")
