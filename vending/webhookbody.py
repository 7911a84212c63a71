"""Reading a webhook's body without trusting it: a size cap, strict UTF-8, no NUL, parsed by us.

Whatever a caller sends (NUL bytes, `\\u0000` escapes in JSON, `%00` in a form, UTF-16, invalid
UTF-8, a body cut short or far too long, the wrong content type), the views get either the parsed
fields or a `problem`; an unreadable body is kept, escaped, in a flagged row
(vending/services/quarantine.py) and answered with a 200 or 400, never a 500. PostgreSQL text cannot
hold NUL, so nothing with a NUL in it goes further than that row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import HttpRequest

# A form body with more fields than this is not one of AT's callbacks (Django's own cap is 1000).
MAX_FORM_FIELDS = 100
MAX_FIELD_CHARS = 4096  # a real field is far shorter; a longer one is cut, never a reason for an error page


@dataclass(frozen=True)
class RawBody:
    data: bytes  # as received, cut at WEBHOOK_MAX_BODY_BYTES
    problem: str = ""  # why it cannot be read; "" when it can

    @property
    def readable(self) -> bool:
        return not self.problem

    def storable(self) -> str:
        """The body as text a database row can hold: as sent when readable, else escaped."""
        return self.data.decode("utf-8") if self.readable else escaped(self.data)


def escaped(data: bytes) -> str:
    """`data` as printable text: invalid UTF-8 as \\xNN, NUL as \\x00 (the backslash itself unchanged)."""
    return data.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")


def read_body(request: HttpRequest) -> RawBody:
    """The request body, read at most to the cap, with the first reason (if any) it is unreadable."""
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        # Only the head is read (from the stream: `request.body` would refuse past Django's own cap), and
        # kept in part, flagged, rather than refused unseen.
        return RawBody(request.read(limit), f"body over {limit} bytes")
    data = request.body  # via `body`, so Django can still parse a multipart form from it
    if len(data) > limit:
        return RawBody(data[:limit], f"body over {limit} bytes")
    if b"\x00" in data:
        return RawBody(data, "NUL byte in the body")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return RawBody(data, "body is not UTF-8")
    return RawBody(data)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _has_lone_surrogate(value: Any) -> bool:
    # JSON may escape half a UTF-16 pair ("\ud800"): Python reads it, but no database driver can encode it.
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def json_problem(raw: RawBody) -> str:
    """Why a readable body is not a usable JSON object ("" when it is)."""
    try:
        data = json.loads(raw.data.decode("utf-8"))
    except ValueError:  # includes a body cut short
        return "body is not JSON"
    if not isinstance(data, dict):
        return "body is not a JSON object"
    if _has_nul(data):
        return "NUL (\\u0000) in a JSON string"
    if _has_lone_surrogate(data):
        return "unpaired surrogate (\\ud800-\\udfff) in a JSON string"
    return ""


def form_fields(request: HttpRequest, raw: RawBody, *, allow_nul: bool = False) -> tuple[dict[str, str] | None, str]:
    """The fields of a form callback (urlencoded, or multipart parsed by Django), or (None, problem).

    `allow_nul`: a `%00` in a value is the caller's to handle (an inbound SMS: GSM-7 codes "@" as 0x00, so
    a gateway may hand one over as NUL; the SMS view drops it and still answers)."""
    content_type = request.content_type or ""
    if content_type.startswith("multipart/form-data"):
        try:
            fields = {key: request.POST.get(key, "") for key in request.POST}
        except Exception as exc:  # Django's multipart parser: a broken body is the caller's fault
            return None, f"broken multipart body: {type(exc).__name__}"
    elif content_type in ("", "application/x-www-form-urlencoded"):
        try:
            pairs = parse_qsl(
                raw.data.decode("utf-8"),
                keep_blank_values=True,
                strict_parsing=False,
                encoding="utf-8",
                errors="strict",
                max_num_fields=MAX_FORM_FIELDS,
            )
        except UnicodeDecodeError:
            return None, "a form value is not UTF-8"
        except ValueError:
            return None, f"more than {MAX_FORM_FIELDS} form fields"
        fields = {}
        for key, value in pairs:
            fields.setdefault(key, value)
    else:
        return None, f"content type {content_type[:60]!r} is not a form"
    if not allow_nul and _has_nul(fields):
        return None, "NUL (%00) in a form field"
    return fields, ""


def gateway_fields(request: HttpRequest, raw: RawBody, *, allow_nul: bool = False) -> tuple[dict[str, str] | None, str]:
    """One flat mapping of a gateway's request, however it sent it, or (None, problem).

    Gateways differ (Kannel calls a GET URL, Africa's Talking posts a form, Hormuud posts JSON); the parsers
    in vending.sms read one mapping of strings. The query string counts for every method; a POST body adds
    a form (urlencoded or multipart) or a flat JSON object, read as strictly as `form_fields` and
    `json_problem` read them. `allow_nul`: as for `form_fields`, a NUL is the caller's to drop.
    """
    fields: dict[str, str] = {key: request.GET.get(key, "") for key in request.GET}
    if request.method == "POST" and raw.data.strip():
        content_type = request.content_type or ""
        if content_type == "application/json" or raw.data[:1] in (b"{", b"["):
            problem = json_problem(raw)
            if problem and not (allow_nul and problem.startswith("NUL")):
                return None, problem
            data = json.loads(raw.data.decode("utf-8"))
            if not isinstance(data, dict):
                return None, "body is not a JSON object"
            fields.update(
                {
                    str(k): "" if v is None else str(v)
                    for k, v in data.items()
                    if isinstance(v, (str, int, float, bool)) or v is None
                }
            )
        else:
            form, problem = form_fields(request, raw, allow_nul=allow_nul)
            if form is None:
                return None, problem.replace("is not a form", "is not a form or JSON")
            fields.update(form)
    if not allow_nul and _has_nul(fields):
        return None, "NUL in a field"
    if _has_lone_surrogate(fields):
        return None, "unpaired surrogate (\\ud800-\\udfff) in a field"
    return {key[:64]: value.replace("\x00", "")[:MAX_FIELD_CHARS] for key, value in fields.items()}, ""
