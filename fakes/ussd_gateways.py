"""Client-side fakes of USSD gateways: a handset's dialogue, sent to koronto the way each gateway sends it.

A real USSD gateway calls *us*; so its fake is a client. `dialer(name, url)` gives a `Dialer` that speaks:

``africastalking``  form fields, the whole input history in ``text``, ``CON``/``END`` text replies
``json``            Hubtel/Nalo style JSON: session id, msisdn, service code, only the latest input, a message
                    type (initiation/response/release/timeout) and a sequence number; JSON reply with a message
                    and a continue flag
``xml``             TruRoute style XML with typed messages (1 request, 2 response, 3 release, 4 timeout)

Each exposes ``dial()``, ``send(answer)``, ``repeat()`` (the gateway re-sends its last request), ``timeout()``
and ``release()`` (the network's notices, where the format has them), and returns a `Screen` (text, end).
A variant format (other field names, flag values) is a `Format` from ussd/gateways/formats.py, the same
object koronto's adapter is configured with, so the fake and the adapter cannot drift apart silently.

``transport`` decides how a request travels: real HTTP with ``requests`` by default (tests against
``live_server``, the demo's ``manage.py phone --gateway json``), or any callable with the same signature.
"""

from __future__ import annotations

import itertools
import json
import uuid
import xml.etree.ElementTree as ET  # only our own server's replies are parsed here
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from ussd.gateways.formats import JSON_DEFAULT, XML_DEFAULT, Format, flag_text

# (method, url, body, content type) -> (status, content type, body)
Transport = Callable[[str, str, bytes, str], tuple[int, str, bytes]]


class GatewayError(AssertionError):
    """koronto answered in a way the gateway would not accept (a 5xx, the wrong content type...)."""


@dataclass(frozen=True)
class Screen:
    text: str
    end: bool


def http_transport(method: str, url: str, body: bytes, content_type: str) -> tuple[int, str, bytes]:
    response = requests.request(method, url, data=body, headers={"Content-Type": content_type}, timeout=30)
    return response.status_code, response.headers.get("Content-Type", ""), response.content


_sessions = itertools.count(1)


class Dialer:
    """One handset on one gateway. Subclasses build the request and read the reply."""

    name = ""
    has_notices = True

    def __init__(
        self,
        url: str,
        phone: str,
        service_code: str,
        *,
        network: str = "",
        fmt: Format | None = None,
        transport: Transport = http_transport,
    ) -> None:
        self.url, self.phone, self.service_code, self.network = url, phone, service_code, network
        self.format = fmt
        self.transport = transport
        self.session_id = ""
        self.inputs: list[str] = []
        self.sequence = 0
        self.last_request: tuple[str, bytes, str] | None = None
        self.screens: list[Screen] = []

    def dial(self) -> Screen:
        self.session_id = f"{self.name[:3].upper()}{uuid.uuid4().hex[:12]}{next(_sessions)}"
        self.inputs, self.sequence = [], 0
        return self._send("begin", "")

    def send(self, answer: str) -> Screen:
        self.inputs.append(answer)
        return self._send("answer", answer)

    def repeat(self) -> Screen:
        """The gateway sends its last request again (it did not get our answer in time)."""
        if self.last_request is None:
            raise GatewayError("nothing to repeat")
        return self._post(*self.last_request)

    def timeout(self) -> Screen:
        return self._send("timeout", "")

    def release(self) -> Screen:
        return self._send("release", "")

    def _send(self, kind: str, answer: str) -> Screen:
        self.sequence += 1
        request = self.request(kind, answer)
        self.last_request = request
        return self._post(*request)

    def _post(self, method: str, body: bytes, content_type: str) -> Screen:
        status, reply_type, reply = self.transport(method, self.url, body, content_type)
        if status != 200:
            raise GatewayError(f"{self.name}: HTTP {status}: {reply[:200]!r}")
        screen = self.read(reply_type, reply)
        self.screens.append(screen)
        return screen

    def request(self, kind: str, answer: str) -> tuple[str, bytes, str]:
        raise NotImplementedError

    def read(self, content_type: str, body: bytes) -> Screen:
        raise NotImplementedError


class AfricasTalkingDialer(Dialer):
    name = "africastalking"
    has_notices = False  # its USSD callback has no release or timeout request

    def request(self, kind: str, answer: str) -> tuple[str, bytes, str]:
        if kind in ("timeout", "release"):
            raise GatewayError("Africa's Talking sends no session notices on the USSD callback")
        form = {
            "sessionId": self.session_id,
            "phoneNumber": self.phone,
            "networkCode": self.network,
            "serviceCode": self.service_code,
            "text": "*".join(self.inputs),
        }
        return "POST", urlencode(form).encode(), "application/x-www-form-urlencoded"

    def read(self, content_type: str, body: bytes) -> Screen:
        text = body.decode("utf-8")
        if not content_type.startswith("text/plain") or not text.startswith(("CON ", "END ")):
            raise GatewayError(f"not an Africa's Talking reply: {content_type} {text[:60]!r}")
        return Screen(text[4:], text.startswith("END "))


class TypedDialer(Dialer):
    """JSON or XML, latest input only, typed messages: the names come from a Format."""

    def _fields(self, kind: str, answer: str) -> dict[str, Any]:
        fmt = self._fmt
        values = {
            fmt.session_id: self.session_id,
            fmt.phone: self.phone,
            fmt.service_code: self.service_code,
            fmt.type: fmt.types[kind][0],
            fmt.input: self.service_code if kind == "begin" else answer,
        }
        if fmt.network:
            values[fmt.network] = self.network
        if fmt.sequence:
            values[fmt.sequence] = str(self.sequence)
        return values

    @property
    def _fmt(self) -> Format:
        if self.format is None:
            raise GatewayError("a typed dialer needs its Format")
        return self.format

    def _flag(self, value: Any) -> bool:
        fmt = self._fmt
        if flag_text(value) == flag_text(fmt.continue_value):
            return False
        if flag_text(value) == flag_text(fmt.end_value):
            return True
        raise GatewayError(f"{self.name}: {fmt.flag}={value!r} is neither continue nor end")


class JsonDialer(TypedDialer):
    name = "json"

    def request(self, kind: str, answer: str) -> tuple[str, bytes, str]:
        return "POST", json.dumps(self._fields(kind, answer)).encode(), "application/json"

    def read(self, content_type: str, body: bytes) -> Screen:
        if not content_type.startswith("application/json"):
            raise GatewayError(f"json: reply is {content_type}")
        data = json.loads(body)
        fmt = self._fmt
        sent = {fmt.session_id: self.session_id, fmt.phone: self.phone}
        for reply_field, request_field in fmt.echo.items():
            wanted = sent.get(request_field)
            if wanted is not None and data.get(reply_field) != wanted:
                raise GatewayError(f"json: {reply_field} not echoed ({data.get(reply_field)!r})")
        return Screen(str(data[fmt.message]), self._flag(data[fmt.flag]))


class XmlDialer(TypedDialer):
    name = "xml"

    def request(self, kind: str, answer: str) -> tuple[str, bytes, str]:
        root = ET.Element(self._fmt.root)
        for key, value in self._fields(kind, answer).items():
            ET.SubElement(root, key).text = str(value)
        return "POST", ET.tostring(root, encoding="utf-8", xml_declaration=True), "application/xml"

    def read(self, content_type: str, body: bytes) -> Screen:
        if "xml" not in content_type:
            raise GatewayError(f"xml: reply is {content_type}")
        root = ET.fromstring(body)  # noqa: S314 (koronto's own reply, in a test or the demo)
        fmt = self._fmt
        if root.tag != fmt.root:
            raise GatewayError(f"xml: root <{root.tag}>")
        values = {child.tag: child.text or "" for child in root}
        return Screen(values.get(fmt.message, ""), self._flag(values.get(fmt.flag, "")))


DIALERS: dict[str, type[Dialer]] = {"africastalking": AfricasTalkingDialer, "json": JsonDialer, "xml": XmlDialer}
DEFAULT_FORMATS = {"json": JSON_DEFAULT, "xml": XML_DEFAULT}


def dialer(
    name: str,
    url: str,
    phone: str,
    service_code: str,
    *,
    network: str = "",
    fmt: Format | None = None,
    transport: Transport = http_transport,
) -> Dialer:
    """A handset on gateway `name` ("africastalking", "json", "xml"); `fmt` for a configured variant."""
    base = name if name in DIALERS else (fmt.encoding if fmt is not None else "")
    if base not in DIALERS:
        raise ValueError(f"no dialer for gateway {name!r}")
    return DIALERS[base](
        url, phone, service_code, network=network, fmt=fmt or DEFAULT_FORMATS.get(base), transport=transport
    )
