"""POST /hooks/at/sms/<secret>/ (being built: issue 6)."""

from django.http import Http404


def inbound_sms_callback(request, secret: str):
    raise Http404
