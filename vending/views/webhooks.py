"""Provider webhooks: check the secret path segment, store the raw body, answer 200 at once, work in Celery.

A wrong secret gets 404 (the URL does not exist for anyone who does not know it). Nothing here moves money
or changes a state: the stored callback is the work to do, and vending.pipeline has it processed by a task
after the commit (docs/PROTOCOLS.md §6 rule 4; if that message is lost, the outbox sweep dispatches it again). A body
we cannot read (vending/webhookbody.py) is kept in a flagged row and acknowledged, so the provider stops
repeating it.
"""

from urllib.parse import urlencode

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from vending import pipeline
from vending.services.payments import callback_store
from vending.services.quarantine import callback_quarantine
from vending.services.refunds import REVERSAL_RESULT, REVERSAL_TIMEOUT
from vending.sms import GATEWAYS
from vending.webhookbody import RawBody, escaped, gateway_fields, json_problem, read_body
from vending.webhooksecret import check_webhook_secret

_KEPT_HEADERS = ("Content-Type", "User-Agent", "X-Forwarded-For")


def _headers(request: HttpRequest) -> dict[str, str]:
    # Escaped like an unreadable body: a NUL in a header would make the JSON column refuse the row.
    return {
        name: escaped(request.headers[name].encode("utf-8", "surrogateescape"))[:255]
        for name in _KEPT_HEADERS
        if name in request.headers
    }


def _source_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is trusted only behind a proxy that sets it (kept in headers for staff).
    return request.META.get("REMOTE_ADDR") or None


@csrf_exempt
@require_POST
def daraja_callback(request: HttpRequest, secret: str) -> HttpResponse:
    check_webhook_secret(secret)
    raw = read_body(request)
    problem = raw.problem or json_problem(raw)
    if problem:
        _quarantine(request, "daraja", "stk_callback", raw, problem)
        return JsonResponse({"ResultCode": 0, "ResultDesc": "Accepted"})
    with transaction.atomic():
        callback, created = callback_store(
            provider="daraja",
            kind="stk_callback",
            headers=_headers(request),
            body=raw.data,
            source_ip=_source_ip(request),
        )
        if created:
            pipeline.record(pipeline.Work.CALLBACK, callback.pk)
    return JsonResponse({"ResultCode": 0, "ResultDesc": "Accepted"})


@csrf_exempt
@require_POST
def at_delivery_report(request: HttpRequest, secret: str) -> HttpResponse:
    """Africa's Talking's path from before the gateway registry, kept as an alias."""
    return _store_delivery_report(request, "africastalking", secret)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def sms_delivery_report(request: HttpRequest, gateway: str, secret: str) -> HttpResponse:
    """``POST|GET /hooks/sms/<gateway>/<secret>/delivery/``: any gateway of vending.sms.REPORT_PARSERS."""
    if gateway not in GATEWAYS:
        raise Http404
    return _store_delivery_report(request, gateway, secret)


def _store_delivery_report(request: HttpRequest, gateway: str, secret: str) -> HttpResponse:
    check_webhook_secret(secret)
    raw = read_body(request)
    fields, problem = gateway_fields(request, raw) if raw.readable else (None, raw.problem)
    if fields is None:
        _quarantine(request, gateway, "delivery_report", raw, problem)
        return HttpResponse("OK", content_type="text/plain")
    body = raw.data
    if (
        request.method != "POST"
        or request.GET
        or not (request.content_type or "").startswith("application/x-www-form-urlencoded")
    ):
        # A GET (Kannel), JSON (Hormuud) or multipart report is stored in form encoding, as AT's are, so
        # one reader handles every stored report.
        body = urlencode(list(fields.items())).encode()
    with transaction.atomic():
        callback, created = callback_store(
            provider=gateway,
            kind="delivery_report",
            headers=_headers(request),
            body=body,
            source_ip=_source_ip(request),
        )
        if created:
            pipeline.record(pipeline.Work.DELIVERY_REPORT, callback.pk)
    return HttpResponse("OK", content_type="text/plain")


def _quarantine(request: HttpRequest, provider: str, kind: str, raw: RawBody, problem: str) -> None:
    callback_quarantine(
        provider=provider,
        kind=kind,
        headers=_headers(request),
        raw=raw,
        problem=problem,
        now=timezone.now(),
        source_ip=_source_ip(request),
    )


@csrf_exempt
@require_POST
def daraja_reversal_result(request: HttpRequest, kind: str, secret: str) -> HttpResponse:
    """Daraja's Transaction Reversal outcome (ResultURL) or queue timeout (QueueTimeOutURL)."""
    check_webhook_secret(secret)
    stored_kind = REVERSAL_RESULT if kind == "result" else REVERSAL_TIMEOUT
    raw = read_body(request)
    problem = raw.problem or json_problem(raw)
    if problem:
        _quarantine(request, "daraja", stored_kind, raw, problem)
        return JsonResponse({"ResultCode": 0, "ResultDesc": "Accepted"})
    with transaction.atomic():
        callback, created = callback_store(
            provider="daraja", kind=stored_kind, headers=_headers(request), body=raw.data, source_ip=_source_ip(request)
        )
        if created:
            pipeline.record(pipeline.Work.REVERSAL_RESULT, callback.pk)
    return JsonResponse({"ResultCode": 0, "ResultDesc": "Accepted"})
