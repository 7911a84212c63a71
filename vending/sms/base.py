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
    """Transient: retry later. (After a read timeout the SMS may have gone out; a resend can duplicate.)"""


class SmsRejected(SmsError):
    """Permanent: bad credentials, bad sender id, invalid recipient format."""


class InvalidDeliveryReport(SmsError):
    pass


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


class SmsSender(abc.ABC):
    name: str = ""

    @abc.abstractmethod
    def send(self, to: str, message: str) -> SendResult: ...

    @abc.abstractmethod
    def parse_delivery_report(self, form: Mapping[str, str]) -> DeliveryReport: ...
