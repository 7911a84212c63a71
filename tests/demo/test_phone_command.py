"""`manage.py phone`: a scripted terminal session through the real USSD and SMS webhooks."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.demo.conftest import DEMO_DRN, DEMO_PHONE
from vending.models import Purchase, Token
from vending.services.virtual_meters import meter_enter
from vending.states import PurchaseState

# Real commits (on_commit fires), eager Celery: the purchase settles before the command looks.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("demo_data", "eager")]


def no_waiting(seconds: float) -> None:
    raise AssertionError(f"the command waited {seconds}s although everything had already happened")


def run_phone(script: str, *args: str) -> str:
    out = StringIO()
    call_command("phone", DEMO_PHONE, *args, stdin=StringIO(script), sleep=no_waiting, stdout=out)
    return out.getvalue()


def test_ussd_purchase_in_the_terminal_shows_each_screen_then_the_token_sms():
    # Enter dials the default code; 1 buy, 1 the saved "Home" meter, 500 KES, 1 confirm; then quit.
    output = run_phone("\n1\n1\n500\n1\nq\n")

    purchase = Purchase.objects.get(payer_phone=DEMO_PHONE)
    token = purchase.tokens.get(kind=Token.Kind.CREDIT)
    assert purchase.state == PurchaseState.DELIVERED and purchase.channel == "ussd"
    assert purchase.meter.drn == DEMO_DRN
    screens = [
        "| Koronto electricity",
        "| Buy: pick a meter",
        "| 1. Home 04123456784",
        "Enter amount, KES 20 to",
        "| 1. Confirm",
        "| Approve the M-Pesa prompt",
    ]
    positions = [output.index(text) for text in screens]
    assert positions == sorted(positions)
    assert "--- New SMS (1) ---" in output and f"  Token {token.grouped}" in output
    assert output.index(f"Token {token.grouped}") > positions[-1]
    assert output.rstrip().endswith("Bye.")
    assert meter_enter(meter=purchase.meter, token=token.digits).display == "Accept"


def test_sms_purchase_and_inbox_in_the_terminal():
    output = run_phone(f"sms BUY {DEMO_DRN} 100\ninbox\n")  # EOF ends the session like q

    purchase = Purchase.objects.get(payer_phone=DEMO_PHONE)
    token = purchase.tokens.get(kind=Token.Kind.CREDIT)
    assert purchase.channel == "sms" and purchase.state == PurchaseState.DELIVERED
    assert "Sent to 44135." in output
    assert output.count(f"Token {token.grouped}") == 2  # once as new SMS, once in the inbox
    assert "--- Inbox (" in output


def test_a_text_that_is_not_a_purchase_shows_the_reply():
    output = run_phone("sms HELP\nq\n")

    assert not Purchase.objects.exists()
    assert "--- New SMS (1) ---" in output and "BUY" in output.split("--- New SMS (1) ---")[1]


def test_the_terminal_phone_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="demo mode"):
        run_phone("q\n")


def test_the_terminal_phone_refuses_a_bad_number():
    with pytest.raises(CommandError, match="not a phone number"):
        call_command("phone", "banana", stdin=StringIO("q\n"), stdout=StringIO())


def test_a_somali_phone_dials_through_the_json_gateway():
    # An operator's JSON USSD gateway (docs/GATEWAYS.md), as a Hormuud phone meets it: Somali screens, EVC Plus.
    out = StringIO()
    call_command(
        "phone",
        "+252611000111",
        "--gateway",
        "json",
        stdin=StringIO("\n1\n1\n10\n1\n1\nq\n"),
        sleep=no_waiting,
        stdout=out,
    )
    output = out.getvalue()
    purchase = Purchase.objects.get(payer_phone="+252611000111")
    token = purchase.tokens.get(kind=Token.Kind.CREDIT)
    assert (purchase.state, purchase.wallet, purchase.meter.drn) == (
        PurchaseState.DELIVERED,
        "evcplus",
        "0100000000016",
    )
    assert "| Iibso: dooro mitir" in output and "| 1. EVC Plus" in output
    assert f"Token {token.grouped}" in output
