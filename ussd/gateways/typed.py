"""Latest-input gateways with a message type: JSON (Hubtel/Nalo style) and XML (TruRoute style).

The request carries the session id, the phone, the service code, the customer's latest input only and a
message type: initiation (the dial), response (an answer), release (the customer left), timeout (the
network dropped the session). The reply carries our text and a continue/end flag. The conversation keeps
the input history itself (ussd/sessions.py) because the gateway does not send it.

Field names and flag values come from a `Format` (ussd/gateways/formats.py), so an operator's variant is
configuration. A GET carries the same fields in its query string.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET  # DTDs and entities are refused before parsing (_xml_fields)
from typing import Any

from django.http import HttpRequest, HttpResponse

from ussd.gateways.base import MAX_BODY_BYTES, BadHop, Hop, HopKind, clip
from ussd.gateways.formats import Format, flag_text


class TypedGateway:
    def __init__(self, name: str, fmt: Format) -> None:
        self.name = name
        self.format = fmt

    # -- in ------------------------------------------------------------------------------------------

    def parse(self, request: HttpRequest) -> Hop:
        fields = self._fields(request)
        fmt = self.format

        def value(key: str) -> str:
            return clip(fields.get(key)).strip() if key else ""

        phone = value(fmt.phone)
        kind = fmt.kind_of(fields.get(fmt.type, ""))
        if kind is None:
            raise BadHop(f"{fmt.type} is missing or not a message type we know", phone=phone)
        hop = Hop(
            session_id=value(fmt.session_id),
            phone=phone,
            service_code=value(fmt.service_code),
            network_code=value(fmt.network),
            kind=kind,
            # On initiation the input is the dialled code (or empty): not an answer to any screen.
            text="" if kind == HopKind.BEGIN else clip(fields.get(fmt.input)),
            cumulative=False,
            sequence=value(fmt.sequence),
        )
        if not hop.session_id or not hop.phone:
            raise BadHop(f"{fmt.session_id} and {fmt.phone} are required", phone=phone)
        return hop

    def _fields(self, request: HttpRequest) -> dict[str, Any]:
        if request.method == "GET":
            return {key: request.GET.get(key, "") for key in request.GET}
        body = request.body
        if len(body) > MAX_BODY_BYTES:
            raise BadHop("request body too large")
        if self.format.encoding == "xml":
            return _xml_fields(body, self.format.root)
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadHop("request body is not JSON") from exc
        if not isinstance(data, dict):
            raise BadHop("request body is not a JSON object")
        return {k: v for k, v in data.items() if not isinstance(v, dict | list)}

    # -- out -----------------------------------------------------------------------------------------

    def respond(self, *, body: str, end: bool, hop: Hop | None) -> HttpResponse:
        fmt = self.format
        flag = fmt.end_value if end else fmt.continue_value
        echoed = {reply_field: _hop_value(fmt, hop, request_field) for reply_field, request_field in fmt.echo.items()}
        if fmt.encoding == "xml":
            root = ET.Element(fmt.root)
            for key, text in echoed.items():
                ET.SubElement(root, key).text = text
            ET.SubElement(root, fmt.flag).text = flag_text(flag) if isinstance(flag, bool) else str(flag)
            ET.SubElement(root, fmt.message).text = body
            payload = ET.tostring(root, encoding="utf-8", xml_declaration=True)
            return HttpResponse(payload, content_type="application/xml; charset=utf-8")
        reply: dict[str, Any] = {**echoed, fmt.message: body, fmt.flag: flag}
        return HttpResponse(json.dumps(reply, ensure_ascii=False).encode(), content_type="application/json")


def _hop_value(fmt: Format, hop: Hop | None, request_field: str) -> str:
    if hop is None:
        return ""
    by_field = {
        fmt.session_id: hop.session_id,
        fmt.phone: hop.phone,
        fmt.service_code: hop.service_code,
        fmt.network: hop.network_code,
        fmt.sequence: hop.sequence,
    }
    return by_field.get(request_field, "")


def _xml_fields(body: bytes, root_name: str) -> dict[str, str]:
    # No DTD, no entities: a gateway never needs them, and refusing them closes entity-expansion attacks.
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise BadHop("XML with a DTD or entities is refused")
    try:
        root = ET.fromstring(body)  # noqa: S314 (no DTD or entity can reach the parser: refused above)
    except ET.ParseError as exc:
        raise BadHop("request body is not XML") from exc
    if root.tag != root_name:
        raise BadHop(f"the XML root element is not <{root_name}>")
    fields = {child.tag: (child.text or "") for child in root if len(child) == 0}
    return fields
