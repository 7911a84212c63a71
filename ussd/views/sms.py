"""Inbound SMS from every gateway: ``POST|GET /hooks/sms/<gateway>/<secret>/`` (and AT's old
``POST /hooks/at/sms/<secret>/``), docs/PROTOCOLS.md §2.1, §2.4, §6 rule 4.

Store first, answer 200 at once, work in a task. Gateways repeat a callback until they get a 200, so:
- the raw message becomes an inbound SmsMessage row whose (direction, provider_message_id) is unique:
  a repeated id is a no-op that still answers 200 (vending.services.inbound_sms.sms_inbound_receive);
- the RECEIVED row is the work to do: vending.pipeline dispatches it on commit, only when the row is new
  (and the outbox sweep again if that message is lost);
- 400 only for a request without a sender or a text (nothing to answer); a sender we cannot answer
  (not a phone number) is acknowledged with 200 and dropped, or the gateway would repeat it for minutes.
Each gateway's field names are its parser's business (vending.sms.INBOUND_PARSERS); an unknown gateway
name, like a wrong secret, is a 404.
"""

import hashlib
import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from vending import phones
from vending.services.inbound_sms import sms_inbound_receive
from vending.services.quarantine import callback_quarantine
from vending.sms import INBOUND_PARSERS, InboundSms, InvalidInbound
from vending.webhookbody import gateway_fields, read_body
from vending.webhooksecret import check_webhook_secret

log = logging.getLogger(__name__)

MAX_TEXT = 1600  # ten SMS parts; anything longer is not a command


@csrf_exempt
@require_http_methods(["GET", "POST"])
def inbound_sms(request: HttpRequest, gateway: str, secret: str) -> HttpResponse:
    return _receive(request, gateway, secret)


@csrf_exempt
@require_POST
def inbound_sms_callback(request: HttpRequest, secret: str) -> HttpResponse:
    """The Africa's Talking path from before the gateway registry, kept as an alias."""
    return _receive(request, "africastalking", secret)


def _receive(request: HttpRequest, gateway: str, secret: str) -> HttpResponse:
    check_webhook_secret(secret)
    if gateway not in INBOUND_PARSERS:
        raise Http404
    raw = read_body(request)
    # GSM-7 codes "@" as 0x00, so a gateway may hand one over as NUL: dropped, and the message still answered.
    fields, problem = gateway_fields(request, raw, allow_nul=True) if raw.readable else (None, raw.problem)
    try:
        if fields is None:
            raise InvalidInbound(problem)
        message = INBOUND_PARSERS[gateway](fields)
    except InvalidInbound as exc:
        # Kept, escaped, in a flagged row for staff; 400: there is no message to answer.
        callback_quarantine(
            provider=gateway,
            kind="inbound_sms",
            headers={},
            raw=raw,
            problem=str(exc),
            now=timezone.now(),
            source_ip=request.META.get("REMOTE_ADDR") or None,
        )
        return HttpResponseBadRequest(str(exc))
    try:
        phone = phones.normalise(message.sender, settings.DEFAULT_COUNTRY)
    except phones.InvalidPhoneNumber:
        log.info("inbound SMS from a non-phone sender dropped (%s)", gateway)
        return HttpResponse("OK")
    text = message.text[:MAX_TEXT]
    message_id = message.message_id[:80] or _fallback_id(gateway, message)
    # A repeated message id is acknowledged again and changes nothing (the service returns None).
    sms_inbound_receive(gateway=gateway, phone=phone, text=text, message_id=message_id)
    return HttpResponse("OK")


def _fallback_id(gateway: str, message: InboundSms) -> str:
    """Gateways normally send an id; without one, a hash of sender, date and text still deduplicates repeats."""
    raw = "\x1f".join((message.sender, message.received_at, message.text))
    digest = hashlib.sha256(raw.encode()).hexdigest()
    prefix = "noid" if gateway == "africastalking" else f"noid-{gateway}"
    return f"{prefix}:{digest[:40]}"
