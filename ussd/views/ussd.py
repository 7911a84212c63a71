"""POST /hooks/at/ussd/<secret>/: one USSD hop.

parse (gateway adapter) → load the session from the cache → run the pure machine → perform its effects
(services; a purchase is written here and its push enqueued on commit, so it runs after this END reply
has reached the phone) → save the session → reply. No payment, STS or SMS call happens in this view
(PROTOCOLS.md §1.3, §6 rules 1 and 4), and nothing a caller sends produces a 5xx: every failure ends the
session politely with a 200.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from redis.exceptions import RedisError

from ussd import effects, machine, sessions
from ussd.gateways import AFRICAS_TALKING, BadHop, Gateway, Hop
from vending import phones, ratelimit
from vending.i18n import render
from vending.selectors.customers import customer_by_phone
from vending.services.customers import customer_get_or_create
from vending.services.quarantine import callback_quarantine
from vending.webhookbody import form_fields, read_body
from vending.webhooksecret import check_webhook_secret

logger = logging.getLogger(__name__)


def now() -> datetime:
    """The view's clock; tests replace it to move time instead of waiting."""
    return timezone.now()


def dial_limit() -> ratelimit.Limit:
    return ratelimit.Limit("ussd-dials", settings.USSD_DIALS_PER_HOUR, 3600)


@csrf_exempt
@require_POST
def ussd_callback(request: HttpRequest, secret: str) -> HttpResponse:
    check_webhook_secret(secret)
    return run_hop(AFRICAS_TALKING, request)


def run_hop(gateway: Gateway, request: HttpRequest) -> HttpResponse:
    raw = read_body(request)
    form, problem = form_fields(request, raw) if raw.readable else (None, raw.problem)
    if form is None:  # kept for staff in a flagged row; the caller still gets a polite END
        callback_quarantine(provider=gateway.name, kind="ussd_hop", headers={}, raw=raw, problem=problem,
                            now=timezone.now(), source_ip=request.META.get("REMOTE_ADDR") or None)
        return gateway.respond(body=render("ussd.error", "en"), end=True)
    try:
        hop = gateway.parse(form)
    except BadHop:
        return gateway.respond(body=render("ussd.error", "en"), end=True)
    try:
        end, body = converse(hop, at=now())
    except RedisError as exc:
        # Sessions and rate limits live in Redis; with it down (short socket timeouts, settings.CACHES) the
        # hop ends at once with "try again" in the caller's language, and the next dial starts afresh.
        logger.warning("USSD hop without Redis (session %s): %s", hop.session_id[:40], type(exc).__name__)
        end, body = True, render("ussd.busy", _language_of(hop.phone))
    except Exception:
        logger.exception("USSD hop failed (session %s)", hop.session_id[:40])
        end, body = True, render("ussd.error", "en")
    return gateway.respond(body=machine.fit_body(body), end=end)


def _language_of(raw_phone: str) -> str:
    """The caller's language from the database (which does not need Redis); English if unknown."""
    try:
        known = customer_by_phone(phone=phones.normalise(raw_phone))
    except Exception:  # an unknown number, or the database down as well: English
        return "en"
    return known[1] if known else "en"


def converse(hop: Hop, *, at: datetime) -> tuple[bool, str]:
    """One hop of the conversation; returns (end, text)."""
    if hop.service_code not in settings.USSD_SERVICE_CODES:
        return True, render("ussd.bad_code", "en")
    try:
        phone = phones.normalise(hop.phone)
    except phones.InvalidPhoneNumber:
        return True, render("ussd.error", "en")

    session, place = sessions.load(hop.session_id, phone)
    if session is not None and hop.text == session.last_text:
        # The aggregator repeated a hop we already answered: the same reply, nothing run twice.
        return session.ended, session.last_reply[4:]
    if session is not None and session.ended:
        return True, session.last_reply[4:]

    if session is None:
        known = customer_by_phone(phone=phone)
        if not ratelimit.hit(dial_limit(), phone, now_seconds=at.timestamp()):
            return True, render("ussd.dial_limit", known[1] if known else "en")
        if known is None:
            customer = customer_get_or_create(phone=phone)
            known = customer.pk, customer.language
        customer_id, language = known
        session = sessions.Session(customer_id=customer_id)
        reader = effects.DatabaseReader(phone=phone, customer_id=customer_id, now=at, reads=session.reads)
        step = machine.start(lang=language, reader=reader, resumable=sessions.resumable(place, now=at))
    else:
        reader = effects.DatabaseReader(phone=phone, customer_id=session.customer_id, now=at, reads=session.reads)
        step = machine.step(session.machine, hop_input(hop.text, session.last_text), reader)

    reply, end = step.reply, step.end
    failure = effects.perform(
        step.effects, phone=phone, customer_id=session.customer_id, session_id=hop.session_id,
        lang=step.state["lang"], now=at, reads=session.reads,
    )
    if failure is not None:
        reply, end = "END " + machine.fit_body(failure), True
    session.machine, session.last_text, session.last_reply, session.ended = step.state, hop.text, reply, end
    sessions.save(hop.session_id, phone, session, now=at)
    return end, reply[4:]


def hop_input(text: str, last_text: str) -> str:
    """This hop's answer: what the cumulative `text` adds to the last one (free text may contain `*`)."""
    if last_text == "":
        return text
    if text.startswith(last_text + "*"):
        return text[len(last_text) + 1 :]
    return text.rsplit("*", 1)[-1]
