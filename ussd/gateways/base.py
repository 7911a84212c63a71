"""What every USSD gateway adapter speaks to the conversation: a `Hop` in, a body and an end flag out.

A gateway (an aggregator's or an operator's HTTP USSD contract) differs in three ways, and its adapter owns
all three: the wire format (form, JSON, XML; field names; how "continue" and "end" are written), what a
request carries (the whole input history, or only the latest input with a message type), and which
notifications it sends (release by the customer, network timeout). The conversation (ussd/views/ussd.py,
sessions, the pure machine) sees only the `Hop` below and never a field name or a CON/END prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from django.http import HttpRequest, HttpResponse

MAX_FIELD_LENGTH = 4096  # a real hop is far shorter; longer fields are cut, never rejected with a 5xx
MAX_BODY_BYTES = 16_384  # a JSON or XML hop is a few hundred bytes; anything larger is not a hop


class HopKind(StrEnum):
    BEGIN = "begin"  # the customer dialled: first screen
    ANSWER = "answer"  # the customer answered the screen we sent
    RELEASE = "release"  # the customer (or the gateway) closed the session: no screen is shown
    TIMEOUT = "timeout"  # the network dropped the session: no screen is shown


NOTICES = frozenset({HopKind.RELEASE, HopKind.TIMEOUT})


class BadHop(ValueError):
    """The request is not a hop we can read. `phone` is the caller's number when it could be read, so the
    polite end reply can be in the customer's language."""

    def __init__(self, message: str, *, phone: str = "") -> None:
        super().__init__(message)
        self.phone = phone


@dataclass(frozen=True)
class Hop:
    session_id: str
    phone: str  # as the gateway sent it; normalised by the caller
    service_code: str
    network_code: str
    kind: HopKind
    # cumulative=True: every input of the session so far, joined by "*" (Africa's Talking);
    # cumulative=False: only this hop's input (the conversation keeps the history itself).
    text: str
    cumulative: bool
    # The gateway's own number for this request (a sequence or message id), when its format has one: the
    # same number again is a repeated request. Empty when the format has none.
    sequence: str = ""

    @property
    def request_key(self) -> str:
        """What identifies this request within its session, for answering a repeat with the same reply.

        Empty when nothing does: a latest-input gateway without a sequence number cannot tell "the customer
        typed 1 again" from "the gateway sent the same 1 twice", so only its initiation is recognised.
        """
        if self.cumulative:
            return f"t:{self.text}"
        if self.sequence:
            return f"{self.kind}:{self.sequence}"
        return f"{self.kind}:" if self.kind == HopKind.BEGIN else ""


class Gateway(Protocol):
    name: str

    def parse(self, request: HttpRequest) -> Hop: ...

    def respond(self, *, body: str, end: bool, hop: Hop | None) -> HttpResponse: ...


def clip(value: object) -> str:
    return str(value if value is not None else "")[:MAX_FIELD_LENGTH]


def request_fields(request: HttpRequest) -> dict[str, str]:
    """A form gateway's fields: the POST form, or the query string of a GET."""
    source = request.POST if request.method == "POST" else request.GET
    return {key: source.get(key, "") for key in source}
