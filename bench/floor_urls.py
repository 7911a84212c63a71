"""The bench-only URLconf of the web floor (bench/floor_settings.py): the USSD callback's path answered by a bare
view, so bench/floor.py drives it with the same client, the same requests and the same gunicorn as the real hop."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from vending.views.health import healthz


@csrf_exempt
def bare_hop(request: HttpRequest, secret: str) -> HttpResponse:
    """The least a USSD hop can do: read one form field, answer a `CON …` screen as text/plain."""
    text = request.POST.get("text", "")
    return HttpResponse(f"CON You sent {text[-20:]!s}\n1. Next", content_type="text/plain; charset=utf-8")


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("hooks/at/ussd/<str:secret>/", bare_hop),
]
