"""Provider webhooks: check the secret path segment, store the raw body, answer 200 at once, work in Celery.

A wrong secret gets 404 (the URL does not exist for anyone who does not know it). Nothing here moves money
or changes a state: the stored callback is processed by a task (PROTOCOLS 6 rule 4).
"""

import hmac
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from vending.services.payments import callback_store

_KEPT_HEADERS = ("Content-Type", "User-Agent", "X-Forwarded-For")


def _check_secret(secret: str) -> None:
    if not hmac.compare_digest(secret.encode(), settings.WEBHOOK_SECRET.encode()):
        raise Http404


def _headers(request: HttpRequest) -> dict[str, str]:
    return {name: request.headers[name] for name in _KEPT_HEADERS if name in request.headers}


def _source_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is trusted only behind a proxy that sets it (kept in headers for staff).
    return request.META.get("REMOTE_ADDR") or None


@csrf_exempt
@require_POST
def daraja_callback(request: HttpRequest, secret: str) -> HttpResponse:
    from vending.tasks import callback_process_task

    _check_secret(secret)
    with transaction.atomic():
        callback, created = callback_store(provider="daraja", kind="stk_callback", headers=_headers(request),
                                           body=request.body, source_ip=_source_ip(request))
        if created:
            callback_process_task.delay_on_commit(callback.pk)
    return JsonResponse({"ResultCode": 0, "ResultDesc": "Accepted"})


@csrf_exempt
@require_POST
def at_delivery_report(request: HttpRequest, secret: str) -> HttpResponse:
    from vending.tasks import delivery_report_process_task

    _check_secret(secret)
    body = request.body
    if not (request.content_type or "").startswith("application/x-www-form-urlencoded"):
        body = urlencode(list(request.POST.items())).encode()  # store every report in AT's own form encoding
    with transaction.atomic():
        callback, created = callback_store(provider="africastalking", kind="delivery_report",
                                           headers=_headers(request), body=body,
                                           source_ip=_source_ip(request))
        if created:
            delivery_report_process_task.delay_on_commit(callback.pk)
    return HttpResponse("OK", content_type="text/plain")
