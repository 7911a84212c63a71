"""POST /hooks/at/sms/<secret>/: Africa's Talking inbound SMS (PROTOCOLS.md §2.1, §2.4, §6 rule 4).

Store first, answer 200 at once, work in a task. AT repeats a callback until it gets a 200, so:
- the raw message becomes an inbound SmsMessage row whose (direction, provider_message_id) is unique:
  a repeated `id` is a no-op that still answers 200;
- the RECEIVED row is the work to do: vending.pipeline dispatches it on commit, only when the row is new
  (and the outbox sweep again if that message is lost);
- 400 only for a request without `from` or `text` (nothing to answer); a sender we cannot answer
  (not a phone number) is acknowledged with 200 and dropped, or AT would repeat it for 10 minutes.
"""

import hashlib
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from vending import phones, pipeline
from vending.models import SmsMessage
from vending.states import SmsState

log = logging.getLogger(__name__)

MAX_TEXT = 1600  # ten SMS parts; anything longer is not a command
PROVIDER = "africastalking"


@csrf_exempt
@require_POST
def inbound_sms_callback(request: HttpRequest, secret: str) -> HttpResponse:
    if not constant_time_compare(secret, settings.WEBHOOK_SECRET):
        raise Http404
    sender, text = request.POST.get("from", "").strip(), request.POST.get("text")
    if not sender or text is None:
        return HttpResponseBadRequest("from and text are required")
    try:
        phone = phones.normalise(sender, settings.DEFAULT_COUNTRY)
    except phones.InvalidPhoneNumber:
        log.info("inbound SMS from a non-phone sender dropped")
        return HttpResponse("OK")
    text = _storable(text)[:MAX_TEXT]
    message_id = _storable(request.POST.get("id", "")).strip()[:80] or _fallback_id(request, sender, text)
    try:
        with transaction.atomic():
            inbound = SmsMessage.objects.create(
                direction=SmsMessage.Direction.INBOUND, phone=phone, text=text, provider=PROVIDER,
                provider_message_id=message_id, status=SmsState.RECEIVED,
            )
            pipeline.record(pipeline.Work.INBOUND_SMS, inbound.pk)
    except IntegrityError:
        pass  # AT repeating a message we already have: acknowledge again, do nothing
    return HttpResponse("OK")


def _storable(value: str) -> str:
    # PostgreSQL text cannot hold NUL; a stray one must not turn a callback into a 500 that AT repeats.
    return value.replace("\x00", "")


def _fallback_id(request: HttpRequest, sender: str, text: str) -> str:
    """AT always sends `id`; without one, a hash of sender, date and text still deduplicates repeats."""
    digest = hashlib.sha256("\x1f".join((sender, request.POST.get("date", ""), text)).encode()).hexdigest()
    return f"noid:{digest[:40]}"
