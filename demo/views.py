"""GET /simulator/: a feature phone in the browser, plus the small JSON endpoints its page polls.

Only in demo mode (settings.DEMO_MODE); every URL here answers 404 otherwise. The page sends USSD and
SMS straight to the real Africa's Talking webhooks in AT's own form format (it is given the webhook
secret, which is why this page must never exist in production). These endpoints only read what the
handset and the meter would show, answer the sandbox wallet's PIN prompt, and type tokens into a
virtual meter through the same services the rest of koronto uses.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from demo import interactive, selectors
from vending import phones
from vending.models import Meter
from vending.services.virtual_meters import meter_enter

DEFAULT_PHONE = "+254711000111"
POLL_MILLISECONDS = 1500
SANDBOX_NETWORK_CODE = "99999"  # what Africa's Talking's own simulator sends (docs/PROTOCOLS.md §1.1)
# The USSD gateway formats the page can speak: Africa's Talking, or an operator contract in the built-in
# `json` format (Hubtel/Nalo style, docs/GATEWAYS.md), the way a Somali operator's gateway would call us.
GATEWAYS = [("africastalking", "Africa's Talking (form, CON/END)"), ("json", "Operator JSON gateway")]
KEYPAD = [
    ("1", ""),
    ("2", "abc"),
    ("3", "def"),
    ("4", "ghi"),
    ("5", "jkl"),
    ("6", "mno"),
    ("7", "pqrs"),
    ("8", "tuv"),
    ("9", "wxyz"),
    ("*", ""),
    ("0", "+"),
    ("#", ""),
]


def demo_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.DEMO_MODE:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _bad(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _phone(raw: str | None) -> str | None:
    """E.164 from a query or body value; a '+' that arrived as a space in a query string still counts."""
    try:
        return phones.normalise((raw or "").strip(), settings.DEFAULT_COUNTRY)
    except phones.InvalidPhoneNumber:
        return None


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@demo_only
@require_GET
@ensure_csrf_cookie
def simulator(request: HttpRequest) -> HttpResponse:
    known = selectors.demo_phones()
    phone = _phone(request.GET.get("phone")) or (DEFAULT_PHONE if DEFAULT_PHONE in known or not known else known[0])
    secret = settings.WEBHOOK_SECRET
    gateway = request.GET.get("gateway", "africastalking")
    gateway = gateway if gateway in dict(GATEWAYS) else "africastalking"
    ussd_url = (
        reverse("ussd-callback", kwargs={"secret": secret})
        if gateway == "africastalking"
        else reverse("ussd-gateway", kwargs={"gateway": gateway, "secret": secret})
    )
    config = {
        "phone": phone,
        "serviceCode": settings.USSD_SERVICE_CODES[0],
        "shortcode": settings.SMS_SHORTCODE,
        "networkCode": SANDBOX_NETWORK_CODE,
        "ussdGateway": gateway,
        "ussdUrl": ussd_url,
        "smsUrl": reverse("sms-inbound", kwargs={"secret": secret}),
        "inboxUrl": reverse("demo-inbox"),
        "walletUrl": reverse("demo-wallet"),
        "meterUrl": reverse("demo-meter", kwargs={"drn": "DRN"}),
        "pollMs": POLL_MILLISECONDS,
    }
    context = {
        "phone": phone,
        "phones": known if phone in known else [phone, *known],
        "meters": selectors.meters_for_phone(phone=phone),
        "service_code": settings.USSD_SERVICE_CODES[0],
        "shortcode": settings.SMS_SHORTCODE,
        "demo_pin": interactive.DEMO_PIN,
        "keypad": KEYPAD,
        "config": config,
        "gateways": GATEWAYS,
        "gateway": gateway,
    }
    return render(request, "demo/simulator.html", context)


@demo_only
@require_GET
def inbox(request: HttpRequest) -> JsonResponse:
    phone = _phone(request.GET.get("phone"))
    if phone is None:
        return _bad("phone is not a phone number")
    messages = [
        {"id": sms.pk, "text": sms.text, "status": sms.status, "at": sms.created_at.isoformat()}
        for sms in selectors.inbox_for_phone(phone=phone)
    ]
    return JsonResponse({"phone": phone, "messages": messages})


@demo_only
@require_GET
def wallet(request: HttpRequest) -> JsonResponse:
    """The open PIN prompts for the phone; calling it is the page's heartbeat (it holds new pushes)."""
    phone = _phone(request.GET.get("phone"))
    if phone is None:
        return _bad("phone is not a phone number")
    interactive.wallet_register(phone=phone)
    prompts = [prompt.public() for prompt in interactive.wallet_prompts(phone=phone)]
    return JsonResponse({"phone": phone, "prompts": prompts})


def _answer(request: HttpRequest, prompt_id: str, *, approve: bool) -> JsonResponse:
    body = _json_body(request)
    phone = _phone(body.get("phone"))
    if phone is None:
        return _bad("phone is not a phone number")
    pin = str(body.get("pin", "")) if approve else None
    try:
        answer = interactive.wallet_prompt_answer(phone=phone, prompt_id=prompt_id, pin=pin)
    except interactive.BadPin as exc:
        return _bad(str(exc))
    except interactive.PromptNotFound:
        return _bad("no such prompt (answered already, or expired)", status=404)
    return JsonResponse({"id": prompt_id, "answer": answer})


@demo_only
@require_POST
def wallet_approve(request: HttpRequest, prompt_id: str) -> JsonResponse:
    return _answer(request, prompt_id, approve=True)


@demo_only
@require_POST
def wallet_decline(request: HttpRequest, prompt_id: str) -> JsonResponse:
    return _answer(request, prompt_id, approve=False)


def _meter_state(meter: Meter) -> dict[str, Any]:
    return {"drn": meter.drn, "name": meter.label_name, "credit_kwh": f"{selectors.meter_credit_kwh(meter=meter):.1f}"}


@demo_only
@require_GET
def meter(request: HttpRequest, drn: str) -> JsonResponse:
    return JsonResponse(_meter_state(get_object_or_404(Meter, drn=drn)))


@demo_only
@require_POST
def meter_token(request: HttpRequest, drn: str) -> JsonResponse:
    """Type a token on the meter's keypad: what the display says, and the register after."""
    found = get_object_or_404(Meter, drn=drn)
    token = "".join(ch for ch in str(_json_body(request).get("token", "")) if ch.isdigit())
    if not token:
        return _bad("type the 20 digits of the token")
    result = meter_enter(meter=found, token=token)
    return JsonResponse(
        {
            **_meter_state(found),
            "display": result.display.value,
            "message": result.message,
            "accepted": result.accepted,
            "added_kwh": f"{result.units_added / 10:.1f}",
        }
    )
