"""Africa's Talking (docs/PROTOCOLS.md §1, docs/GATEWAYS.md): form fields in, `CON …` / `END …` plain text out.

Every request carries the whole input history in `text` ("1*2*500"); the first request of a dial has an
empty `text`. There is no release or timeout notification on this callback, and a retried request is the
same `text` again (Hop.request_key).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from ussd.gateways.base import BadHop, Hop, HopKind, clip, request_fields


class AfricasTalking:
    name = "africastalking"

    def parse(self, request: HttpRequest) -> Hop:
        form = request_fields(request)
        text = clip(form.get("text"))
        hop = Hop(
            session_id=clip(form.get("sessionId")).strip(),
            phone=clip(form.get("phoneNumber")).strip(),
            service_code=clip(form.get("serviceCode")).strip(),
            network_code=clip(form.get("networkCode")).strip(),
            kind=HopKind.BEGIN if text == "" else HopKind.ANSWER,
            text=text,
            cumulative=True,
        )
        if not hop.session_id or not hop.phone:
            raise BadHop("sessionId and phoneNumber are required", phone=hop.phone)
        return hop

    def respond(self, *, body: str, end: bool, hop: Hop | None) -> HttpResponse:
        # Always 200: AT ends the session itself on a 4xx, without our words (docs/PROTOCOLS.md §1.2).
        return HttpResponse(("END " if end else "CON ") + body, content_type="text/plain; charset=utf-8")
