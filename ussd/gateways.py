"""USSD aggregators' wire formats: one adapter each, so another aggregator is one more class, not a rewrite.

An adapter turns the aggregator's request into a `Hop` and our reply into its response. The conversation
(sessions, machine, effects) never sees a form field or a CON/END prefix of any one aggregator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from django.http import HttpResponse

MAX_FIELD_LENGTH = 4096  # a real hop is far shorter; longer fields are cut, never rejected with a 5xx


class BadHop(ValueError):
    """The request is missing something every hop must carry."""


@dataclass(frozen=True)
class Hop:
    session_id: str
    phone: str  # as the aggregator sent it; normalised by the caller
    service_code: str
    network_code: str
    text: str  # every input of the session so far, as the aggregator accumulates it


class Gateway(Protocol):
    name: str

    def parse(self, form: Mapping[str, str]) -> Hop: ...

    def respond(self, *, body: str, end: bool) -> HttpResponse: ...


class AfricasTalking:
    """Africa's Talking (PROTOCOLS.md §1): form fields in, `CON …` / `END …` plain text out, always 200."""

    name = "africastalking"

    def parse(self, form: Mapping[str, str]) -> Hop:
        def field(key: str) -> str:
            return str(form.get(key, ""))[:MAX_FIELD_LENGTH]

        hop = Hop(
            session_id=field("sessionId").strip(),
            phone=field("phoneNumber").strip(),
            service_code=field("serviceCode").strip(),
            network_code=field("networkCode").strip(),
            text=field("text"),
        )
        if not hop.session_id or not hop.phone:
            raise BadHop("sessionId and phoneNumber are required")
        return hop

    def respond(self, *, body: str, end: bool) -> HttpResponse:
        return HttpResponse(("END " if end else "CON ") + body, content_type="text/plain; charset=utf-8")


AFRICAS_TALKING = AfricasTalking()
