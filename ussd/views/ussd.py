"""POST|GET /hooks/ussd/<gateway>/<secret>/ (and the alias /hooks/at/ussd/<secret>/): one USSD hop.

parse (the gateway's adapter, ussd/gateways/) → load the session from the cache → run the pure machine →
perform its effects (services; a purchase is written here and its push enqueued on commit, so it runs
after this end reply has reached the phone) → save the session → the adapter renders the reply. No
payment, STS or SMS call happens in this view (docs/PROTOCOLS.md §1.3, §6 rules 1 and 4), and nothing a caller
sends produces a 5xx: every failure ends the session politely, in the gateway's own format, with a 200.

Session semantics that differ per gateway arrive here already decided by the adapter (`Hop`): whether the
request carries the whole history or only the latest input, initiation, release and network-timeout
notices, and what identifies a repeated request.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from redis.exceptions import RedisError

from ussd import effects, gateways, machine, sessions
from ussd.conversation import SESSION_ENDED
from ussd.gateways import NOTICES, BadHop, Gateway, Hop, HopKind
from vending import phones, ratelimit
from vending.i18n import render
from vending.models import Customer
from vending.selectors.customers import customer_by_phone
from vending.services.audit import audit_record
from vending.services.customers import customer_get_or_create
from vending.services.quarantine import callback_quarantine
from vending.webhookbody import read_body
from vending.webhooksecret import check_webhook_secret

logger = logging.getLogger(__name__)

# A caller we do not know yet, by country calling code: the language its phone most likely reads.
COUNTRY_LANGUAGES = {"252": "so"}


def now() -> datetime:
    """The view's clock; tests replace it to move time instead of waiting."""
    return timezone.now()


def dial_limit() -> ratelimit.Limit:
    return ratelimit.Limit("ussd-dials", settings.USSD_DIALS_PER_HOUR, 3600)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def gateway_callback(request: HttpRequest, gateway: str, secret: str) -> HttpResponse:
    adapter = gateways.get(gateway)
    check_webhook_secret(secret)
    if adapter is None:
        raise Http404
    return run_hop(adapter, request)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def ussd_callback(request: HttpRequest, secret: str) -> HttpResponse:
    """The original Africa's Talking path, kept as an alias of /hooks/ussd/africastalking/<secret>/."""
    return gateway_callback(request, gateways.AFRICAS_TALKING.name, secret)


def run_hop(gateway: Gateway, request: HttpRequest) -> HttpResponse:
    raw = read_body(request)
    try:
        if not raw.readable:
            raise BadHop(raw.problem)
        hop = gateway.parse(request)
        if any("\x00" in value for value in (hop.session_id, hop.phone, hop.service_code, hop.text)):
            raise BadHop("NUL in a field", phone=hop.phone.replace("\x00", ""))
    except BadHop as exc:
        # Kept, escaped, in a flagged row for staff; the caller still gets the gateway's own polite end.
        logger.info("USSD %s: unreadable request (%s)", gateway.name, exc)
        callback_quarantine(
            provider=gateway.name,
            kind="ussd_hop",
            headers={},
            raw=raw,
            problem=str(exc),
            now=timezone.now(),
            source_ip=request.META.get("REMOTE_ADDR") or None,
        )
        return gateway.respond(body=machine.fit_body(render("ussd.error", language_for(exc.phone))), end=True, hop=None)
    try:
        end, body = converse(hop, at=now())
    except RedisError as exc:
        # Sessions and rate limits live in Redis; with it down (short socket timeouts, settings.CACHES) the
        # hop ends at once with "try again" in the caller's language, and the next dial starts afresh.
        logger.warning("USSD hop without Redis (session %s): %s", hop.session_id[:40], type(exc).__name__)
        end, body = True, render("ussd.busy", language_for(hop.phone))
    except Exception:
        logger.exception("USSD hop failed (%s session %s)", gateway.name, hop.session_id[:40])
        end, body = True, render("ussd.error", language_for(hop.phone))
    return gateway.respond(body=machine.fit_body(body), end=end, hop=hop)


def language_for(raw_phone: str) -> str:
    """The customer's language for a reply we must give before (or instead of) the conversation."""
    try:
        phone = phones.normalise(raw_phone)
    except phones.InvalidPhoneNumber:
        return "en"
    try:
        known = customer_by_phone(phone=phone)
    except Exception:  # the database may be why we are here; the guess below is still polite
        known = None
    if known is not None:
        return known[1]
    return COUNTRY_LANGUAGES.get(phone[1:4], "en")


def converse(hop: Hop, *, at: datetime) -> tuple[bool, str]:
    """One hop of the conversation; returns (end, text)."""
    if hop.kind not in NOTICES and hop.service_code not in settings.USSD_SERVICE_CODES:
        return True, render("ussd.bad_code", language_for(hop.phone))
    try:
        phone = phones.normalise(hop.phone)
    except phones.InvalidPhoneNumber:
        return True, render("ussd.error", "en")

    session, place = sessions.load(hop.session_id, phone)
    key = hop.request_key
    if session is not None and key and key == session.last_key:
        # The gateway repeated a request we already answered: the same reply, nothing run twice.
        return session.ended, session.last_reply
    if hop.kind in NOTICES:
        return notice(hop, session, phone=phone, at=at)
    if session is not None and (session.ended or hop.kind == HopKind.BEGIN):
        # An ended session answers with its last words; a second initiation of an open one (the gateway
        # lost our first answer) gets the screen the customer is on, not a restart.
        return session.ended, session.last_reply

    note = ""
    if session is None:
        known = customer_by_phone(phone=phone)
        if not ratelimit.hit(dial_limit(), phone, now_seconds=at.timestamp()):
            return True, render("ussd.dial_limit", known[1] if known else language_for(phone))
        if known is None:
            customer = customer_get_or_create(phone=phone, language=COUNTRY_LANGUAGES.get(phone[1:4]))
            known = customer.pk, customer.language
        customer_id, language = known
        session = sessions.Session(customer_id=customer_id, offered=sessions.place_session(place, now=at))
        reader = effects.DatabaseReader(phone=phone, customer_id=customer_id, now=at, reads=session.reads)
        if hop.kind == HopKind.ANSWER:
            # An answer to a session we no longer hold (it expired): say so, and start again.
            note = SESSION_ENDED
        step = machine.start(lang=language, reader=reader, resumable=sessions.resumable(place, now=at), note=note)
    else:
        reader = effects.DatabaseReader(phone=phone, customer_id=session.customer_id, now=at, reads=session.reads)
        answer = hop_input(hop.text, session.last_text) if hop.cumulative else hop.text
        was_offer = session.machine.get("screen") == machine.RESUME
        step = machine.step(session.machine, answer, reader)
        resumed = step.state.get("screen") not in (machine.HOME, machine.RESUME) and not step.end
        if was_offer and resumed and session.offered:
            session.origin = session.offered  # resumed: this is the dropped session's dialogue, carried on

    reply, end = step.reply, step.end
    failure = effects.perform(
        step.effects,
        phone=phone,
        customer_id=session.customer_id,
        session_id=session.origin or hop.session_id,
        lang=step.state["lang"],
        now=at,
        reads=session.reads,
    )
    if failure is not None:
        reply, end = machine.fit_body(failure), True
    session.machine, session.last_reply, session.ended, session.last_key = step.state, reply, end, key
    session.last_text = history(hop, session.last_text, note=bool(note))
    sessions.save(hop.session_id, phone, session, now=at)
    return end, reply


def notice(hop: Hop, session: sessions.Session | None, *, phone: str, at: datetime) -> tuple[bool, str]:
    """A release or network-timeout notice: nothing is shown; what happened is recorded.

    The session stays as it is, so a request that was already on its way (a confirm sent just before the
    network dropped) still runs, once, and a new dial may resume the dropped dialogue. A purchase already
    confirmed is untouched: it goes on to its wallet prompt and token SMS.
    """
    if session is None:
        logger.info("USSD %s for a session we do not hold", hop.kind)
        return True, ""
    key = hop.request_key or f"{hop.kind}:"
    if key == session.last_notice:
        return True, ""  # the same notice again: recorded once
    session.last_notice = key
    screen = str(session.machine.get("screen", ""))
    if hop.kind == HopKind.TIMEOUT:
        session.timed_out_at = at.timestamp()
        audit_record(
            action="ussd.network_timeout",
            obj=Customer(pk=session.customer_id, phone=phone),
            actor_label="gateway",
            data={"screen": screen, "ended": session.ended},
        )
    else:
        logger.info("USSD session released by the gateway on screen %s", screen or "?")
    sessions.save(hop.session_id, phone, session, now=at)
    return True, ""


def history(hop: Hop, last_text: str, *, note: bool = False) -> str:
    """The session's input history after this hop: the gateway's own when it sends it, else ours."""
    if hop.cumulative:
        return hop.text
    if hop.kind == HopKind.BEGIN or note:
        return ""
    return f"{last_text}*{hop.text}" if last_text else hop.text


def hop_input(text: str, last_text: str) -> str:
    """This hop's answer: what the cumulative `text` adds to the last one (free text may contain `*`)."""
    if last_text == "":
        return text
    if text.startswith(last_text + "*"):
        return text[len(last_text) + 1 :]
    return text.rsplit("*", 1)[-1]
