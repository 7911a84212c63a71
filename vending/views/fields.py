"""The fields of a gateway's request, however it sent them: query string, form body or flat JSON object.

Gateways differ (Kannel calls a GET URL, Africa's Talking posts a form, Hormuud posts JSON); the parsers
in vending.sms read one flat mapping of strings. A body we cannot read is an empty mapping, so the
parser answers "missing field" and the view a 400, never a 500.
"""

from __future__ import annotations

import json

from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError

MAX_VALUE = 4096


def request_fields(request: HttpRequest) -> dict[str, str]:
    fields: dict[str, str] = {k: v for k, v in request.GET.items()}
    if request.method != "POST":
        return _clean(fields)
    if request.content_type == "application/json" or request.body[:1] in (b"{", b"["):
        try:
            data = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            data = None
        if isinstance(data, dict):
            fields.update({str(k): "" if v is None else str(v) for k, v in data.items()
                           if isinstance(v, (str, int, float, bool)) or v is None})
        return _clean(fields)
    try:
        fields.update(request.POST.items())
    except (MultiPartParserError, UnicodeDecodeError, ValueError):
        return _clean(fields)  # a body Django's parser cannot read (bad multipart): nothing usable in it
    return _clean(fields)


def _clean(fields: dict[str, str]) -> dict[str, str]:
    # PostgreSQL text cannot hold NUL; overlong values are cut, never a reason for an error page.
    # An unpaired surrogate escaped in JSON ("\ud800") is text Python holds but no database driver stores.
    return {_storable(k)[:64]: _storable(v)[:MAX_VALUE] for k, v in fields.items()}


def _storable(value: str) -> str:
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
