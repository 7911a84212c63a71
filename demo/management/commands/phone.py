"""python manage.py phone +254711000111: a feature phone in the terminal, for people on a server.

Dial the USSD code and answer each screen; text the shortcode with `sms TEXT`. Each hop goes through
the real webhook views in the gateway's own format (Africa's Talking's form fields by default;
`--gateway json` or `xml` speaks as an operator's USSD gateway would, e.g. for a Somali phone:
`manage.py phone +252611000111 --gateway json`), so this is the same path a handset takes. The phone
opens no simulator page, so the sandbox wallet answers its payment prompts by itself
(docs/SANDBOX.md). After a purchase the command waits for the worker and shows the new texts.
"""

from __future__ import annotations

import secrets
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import datetime
from typing import IO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve, reverse
from django.utils import timezone

from demo import selectors
from fakes.ussd_gateways import DIALERS, GatewayError, dialer
from vending import phones
from vending.models import Purchase, SmsMessage
from vending.states import PurchaseState

SCREEN_WIDTH = 30
NETWORK_CODE = "99999"
# A purchase is settled for the terminal once its money question is answered one way or the other.
SETTLED = {
    PurchaseState.VENDED,
    PurchaseState.DELIVERED,
    PurchaseState.PAYMENT_FAILED,
    PurchaseState.NEEDS_REVIEW,
    PurchaseState.REFUND_PENDING,
    PurchaseState.REFUNDED,
    PurchaseState.CANCELLED,
}
HELP = (
    "Commands: press Enter to dial {code} (or type another code), 'sms TEXT' to text {shortcode},\n"
    "'inbox' to read your texts, 'q' to quit."
)


def _post(url_name: str, form: dict[str, str]) -> HttpResponse:
    """POST `form` to one of the real webhook views, as Africa's Talking would."""
    path = reverse(url_name, kwargs={"secret": settings.WEBHOOK_SECRET})
    match = resolve(path)
    return match.func(RequestFactory().post(path, data=form), **match.kwargs)


def _local(method: str, path: str, body: bytes, content_type: str) -> tuple[int, str, bytes]:
    """A gateway's request to the real view, in process (the terminal phone needs no web server)."""
    match = resolve(path)
    response = match.func(RequestFactory().generic(method, path, body, content_type=content_type), **match.kwargs)
    return response.status_code, response.get("Content-Type", ""), response.content


def _is_tty(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Command(BaseCommand):
    help = "A feature phone in the terminal: USSD and SMS through the real webhooks (demo mode only)."
    stealth_options = ("stdin", "sleep")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("phone", help="The phone number, e.g. +254711000111")
        parser.add_argument(
            "--wait", type=float, default=30.0, help="Seconds to wait for the token SMS after a purchase (default 30)."
        )
        parser.add_argument(
            "--gateway",
            choices=sorted(DIALERS),
            default="africastalking",
            help="The USSD gateway format to dial through (default africastalking).",
        )

    def handle(self, *args, **options) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("The terminal phone works in demo mode only (DEMO_MODE=1).")
        try:
            self.phone = phones.normalise(options["phone"], settings.DEFAULT_COUNTRY)
        except phones.InvalidPhoneNumber as exc:
            raise CommandError(f"{options['phone']!r} is not a phone number") from exc
        self.stdin: IO[str] = options.get("stdin") or sys.stdin
        self.sleep: Callable[[float], None] = options.get("sleep") or time.sleep
        self.wait = options["wait"]
        self.gateway = options["gateway"]
        self.code = settings.USSD_SERVICE_CODES[0]
        meters = ", ".join(f"{m.name} {m.drn}" for m in selectors.meters_for_phone(phone=self.phone)[:4])
        self.stdout.write(f"koronto terminal phone {self.phone}" + (f" (meters: {meters})" if meters else ""))
        self.stdout.write(HELP.format(code=self.code, shortcode=settings.SMS_SHORTCODE))
        while True:
            line = self._ask("phone> ")
            if line is None or line.strip().lower() in ("q", "quit", "exit"):
                self.stdout.write("Bye.")
                return
            command = line.strip()
            if command.lower() == "inbox":
                self._show_inbox(self._inbox(limit=5), title="Inbox")
            elif command.lower().startswith("sms "):
                self._text(command[4:].strip())
            elif command == "" or (command.startswith("*") and command.endswith("#")):
                self._dial(command or self.code)
            else:
                self.stdout.write(HELP.format(code=self.code, shortcode=settings.SMS_SHORTCODE))

    # -- input and output --------------------------------------------------------------------------

    def _ask(self, prompt: str) -> str | None:
        self.stdout.write(prompt, ending="")
        self.stdout.flush()
        line = self.stdin.readline()
        if not _is_tty(self.stdin):
            self.stdout.write(line.rstrip("\n"))  # a script's answers, shown as if typed
        return None if line == "" else line.rstrip("\n")

    def _screen(self, text: str) -> None:
        lines = [part for raw in text.splitlines() or [""] for part in (textwrap.wrap(raw, SCREEN_WIDTH) or [""])]
        border = "+" + "-" * (SCREEN_WIDTH + 2) + "+"
        self.stdout.write(border)
        for line in lines:
            self.stdout.write(f"| {line:<{SCREEN_WIDTH}} |")
        self.stdout.write(border)

    # -- USSD ----------------------------------------------------------------------------------------

    def _dial(self, code: str) -> None:
        started = timezone.now()
        last_sms = self._last_sms_pk()
        path = reverse("ussd-gateway", kwargs={"gateway": self.gateway, "secret": settings.WEBHOOK_SECRET})
        handset = dialer(self.gateway, path, self.phone, code, network=NETWORK_CODE, transport=_local)
        try:
            screen = handset.dial()
            while True:
                self._screen(screen.text)
                if screen.end:
                    break
                answer = self._ask("reply> ")
                if answer is None:
                    return
                screen = handset.send(answer.strip())
        except GatewayError:
            self._screen("Connection problem or invalid MMI code.")
            return
        self._after_purchase(started, last_sms)

    # -- SMS -----------------------------------------------------------------------------------------

    def _text(self, text: str) -> None:
        if not text:
            self.stdout.write("Type the message after 'sms', e.g. sms BUY 04123456784 500")
            return
        started = timezone.now()
        last_sms = self._last_sms_pk()
        response = _post(
            "sms-inbound",
            {
                "from": self.phone,
                "to": settings.SMS_SHORTCODE,
                "text": text,
                "date": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
                "id": "ATSMSid_" + secrets.token_hex(8),
                "networkCode": NETWORK_CODE,
            },
        )
        if response.status_code != 200:
            self.stdout.write(f"Message not sent (HTTP {response.status_code}).")
            return
        self.stdout.write(f"Sent to {settings.SMS_SHORTCODE}.")
        if not self._after_purchase(started, last_sms):
            # Not a purchase (HELP, BAL...): the reply comes by SMS once the worker has read it.
            self._show_new_texts(last_sms, wait_for_any=True)

    # -- waiting for the worker ------------------------------------------------------------------------

    def _after_purchase(self, started: datetime, last_sms: int) -> bool:
        """If this dial or text made purchases, wait until they settle, then show the new texts."""
        purchases = Purchase.objects.filter(payer_phone=self.phone, created_at__gte=started)
        if not purchases.exists():
            return False
        self.stdout.write("Waiting for the payment prompt, the token and the SMS...")
        deadline = time.monotonic() + self.wait
        while time.monotonic() < deadline:
            if not purchases.exclude(state__in=SETTLED).exists() and self._new_texts(last_sms):
                break
            self.sleep(0.5)
        self._show_new_texts(last_sms, wait_for_any=False)
        return True

    def _show_new_texts(self, last_sms: int, *, wait_for_any: bool) -> None:
        deadline = time.monotonic() + (self.wait if wait_for_any else 0)
        texts = self._new_texts(last_sms)
        while not texts and time.monotonic() < deadline:
            self.sleep(0.5)
            texts = self._new_texts(last_sms)
        if texts:
            self._show_inbox(texts, title="New SMS")
        else:
            self.stdout.write("No SMS yet. Is the worker running? (`make demo` starts one.) Type 'inbox' later.")

    def _last_sms_pk(self) -> int:
        last = SmsMessage.objects.order_by("-pk").values_list("pk", flat=True).first()
        return last or 0

    def _new_texts(self, last_sms: int) -> list[SmsMessage]:
        return list(
            SmsMessage.objects.filter(
                phone=self.phone, direction=SmsMessage.Direction.OUTBOUND, pk__gt=last_sms
            ).order_by("pk")
        )

    def _inbox(self, *, limit: int) -> list[SmsMessage]:
        return list(reversed(selectors.inbox_for_phone(phone=self.phone, limit=limit)))

    def _show_inbox(self, messages: list[SmsMessage], *, title: str) -> None:
        self.stdout.write(f"--- {title} ({len(messages)}) ---")
        if not messages:
            self.stdout.write("(empty)")
        for sms in messages:
            at = timezone.localtime(sms.created_at).strftime("%H:%M")
            self.stdout.write(f"[{at}] From {settings.SMS_SHORTCODE}:")
            for line in sms.text.splitlines():
                self.stdout.write(f"  {line}")
