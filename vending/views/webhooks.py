"""Provider webhooks (being built: issue 4)."""

from django.http import Http404


def daraja_callback(request, secret: str):
    raise Http404


def at_delivery_report(request, secret: str):
    raise Http404
