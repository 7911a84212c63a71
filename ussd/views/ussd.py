"""POST /hooks/at/ussd/<secret>/ (being built: issue 5)."""

from django.http import Http404


def ussd_callback(request, secret: str):
    raise Http404
