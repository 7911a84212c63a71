"""My meters, my last tokens, purchase status and language, screen by screen."""

import itertools
from datetime import UTC, datetime

import pytest

from tests.factories import make_meter, make_purchase
from tests.ussd.conftest import Phone
from tests.ussd.screens import HOME, NAV, con, end, home
from vending.models import Customer, CustomerMeter, SmsMessage, Token
from vending.services.customers import customer_save_meter

pytestmark = pytest.mark.dated  # also at month end, new year, a leap day and in 2045
METERS_EN = con("My meters", "1. Home 04123456784", "2. Shop 04123456792", "3. Farm 47500150231", "4. Add a meter", NAV)
_tids = itertools.count(1000)


def test_my_meters_rename(phone, world):
    phone.dial()
    assert phone.send("2") == METERS_EN
    assert phone.send("2") == con("Shop 04123456792", "O*** S***", "1. Rename", "2. Remove", NAV)
    assert phone.send("1") == con("New name for meter 04123456792 (up to 20 letters):", NAV)
    rename = con("Use 1 to 20 letters or numbers.", "New name for meter 04123456792 (up to 20 letters):", NAV)
    assert phone.send("Kiosk*2") == rename  # free text may carry "*": it is this hop's answer, and refused
    assert phone.send("A name far too long for a phone") == rename
    assert phone.send("Market Stall") == end("Meter 04123456792 is now called Market Stall.")
    assert CustomerMeter.objects.get(customer=world["wanjiku"], meter__drn="04123456792").alias == "Market Stall"


def test_my_meters_remove_asks_first(phone, world):
    phone.dial()
    phone.send("2")
    phone.send("3")
    remove = con("Remove meter Farm 47500150231?", "1. Yes, remove", "2. No", NAV)
    assert phone.send("2") == remove
    assert phone.send("2") == METERS_EN  # "No" goes back to the list
    phone.send("3")
    phone.send("2")
    assert phone.send("1") == end("Meter 47500150231 was removed from your list.")
    assert not CustomerMeter.objects.filter(customer=world["wanjiku"], meter__drn="47500150231").exists()


def test_my_meters_add(phone, world):
    phone.dial()
    phone.send("2")
    assert phone.send("4") == con("Enter the meter number:", NAV)
    assert phone.send("04123456800") == con("A*** F*** 3*** 04123456800", "Name this meter, e.g. Home:", NAV)
    assert phone.send("Mum") == end("Meter 04123456800 saved as Mum.")
    assert CustomerMeter.objects.get(customer=world["wanjiku"], meter__drn="04123456800").alias == "Mum"


def test_my_meters_paginates_with_98_more(phone, world):
    customer = world["wanjiku"]
    for n in range(6):
        customer_save_meter(customer=customer, meter=make_meter(label_name=f"Flat {n}"), alias=f"Flat {n}")
    saved = [f"{s.alias} {s.meter.drn}" for s in CustomerMeter.objects.filter(customer=customer)]
    expected = [*saved, "Add a meter"]
    assert len(expected) > 7
    phone.dial()
    screen = phone.send("2")
    pages, seen = [screen], []
    while "\n98 Next\n" in screen:
        screen = phone.send("98")
        pages.append(screen)
    for page in pages:
        assert len(page) <= 160
        seen += [line.split(". ", 1)[1] for line in page.split("\n") if line[:1].isdigit() and ". " in line]
    assert seen == expected
    assert len(pages) >= 2
    assert phone.send("98") == con("Please choose from the list.", *pages[-1].split("\n")[1:])
    assert phone.send("0") == pages[-2]  # back goes to the previous page
    last_number = len(expected) - 1  # the last saved meter, shown on a later page
    assert phone.send(str(last_number)).startswith(f"CON {saved[-1]}\n")


def _token(purchase, *, units: str, digits: str) -> Token:
    return Token.objects.create(
        purchase=purchase,
        meter=purchase.meter,
        kind=Token.Kind.CREDIT,
        token_class=0,
        subclass=0,
        tid=next(_tids),
        units=units,
        digits=digits,
    )


def test_my_last_tokens_shows_three_and_resends_by_sms(phone, world):
    home_meter = world["ke"]["04123456784"]
    mine = []
    for n in range(4):
        purchase = make_purchase(home_meter, payer_phone="+254711000111", customer=world["wanjiku"], state="delivered")
        mine.append(_token(purchase, units=f"{10 + n}.5", digits=f"{n}" * 20))
    other = make_purchase(home_meter, payer_phone="+254799000999", state="delivered")
    _token(other, units="99.9", digits="9" * 20)
    phone.dial()
    assert phone.send("3") == con(
        "Last tokens: pick a meter",
        "1. Home 04123456784",
        "2. Shop 04123456792",
        "3. Farm 47500150231",
        "4. Enter a new meter number",
        NAV,
    )
    newest = mine[::-1][:3]
    assert phone.send("1") == con(
        "Home: pick one to get by SMS", *[f"{n}. {t.grouped} {t.units}kWh" for n, t in enumerate(newest, 1)], NAV
    )
    assert phone.send("2") == end(f"We will SMS you the token for ref {newest[1].purchase.reference} again.")
    sms = SmsMessage.objects.get(phone="+254711000111", direction="out")
    assert sms.purchase == newest[1].purchase


def test_my_last_tokens_for_a_meter_without_any(phone, world):
    phone.dial()
    phone.send("3")
    assert phone.send("2") == con("No tokens bought from this phone for meter 04123456792.", NAV)
    assert phone.send("0").startswith("CON Last tokens: pick a meter\n")


def test_purchase_status_lists_the_last_purchases_and_where_each_stands(phone, world):
    shop = world["ke"]["04123456792"]
    states = ["payment_pending", "paid", "delivered", "payment_failed", "needs_review", "delivered"]
    purchases = []
    for n, state in enumerate(states):
        purchase = make_purchase(shop, amount=str(100 * (n + 1)), payer_phone="+254711000111", state=state)
        type(purchase).objects.filter(pk=purchase.pk).update(created_at=datetime(2026, 11, 20 + n, 7, 5, tzinfo=UTC))
        purchases.append(purchase)
    labels = {
        "payment_pending": "Waiting for payment",
        "paid": "Paid, token coming",
        "delivered": "Token sent by SMS",
        "payment_failed": "Payment failed",
        "needs_review": "Being checked",
    }
    newest = purchases[::-1][:5]
    expected = [f"Shop KES {p.amount:.0f}: {labels[p.state]}" for p in newest]
    phone.dial()
    screen, seen = phone.send("4"), []
    assert screen.startswith("CON Your last purchases:\n1. ")
    while True:
        seen += [line.split(". ", 1)[1] for line in screen.split("\n") if line[:1].isdigit() and ". " in line]
        if "\n98 Next\n" not in screen:
            break
        screen = phone.send("98")
    assert seen == expected
    assert phone.send("1") == con(
        f"Ref {newest[0].reference}", "KES 600 for Shop", "25/11 10:05", "Token sent by SMS", NAV
    )


def test_purchase_status_when_there_is_none(new_phone, world):
    new_phone.dial()
    assert new_phone.send("4") == con("No purchases from this phone yet.", NAV)


def test_language_is_remembered_per_customer(phone, world, clock):
    phone.dial()
    assert phone.send("5") == con("Language / Luqadda / Lugha", "1. English", "2. Soomaali", "3. Kiswahili", NAV)
    assert phone.send("3") == home("sw")
    assert Customer.objects.get(phone="+254711000111").language == "sw"
    assert phone.send("1").startswith("CON Nunua: chagua mita\n")
    clock.advance(minutes=10)  # well past the resume window: a fresh dial
    assert phone.dial() == home("sw")
    phone.send("5")
    assert phone.send("2") == home("so")
    phone.send("5")
    assert phone.send("1") == HOME
    assert Customer.objects.get(phone="+254711000111").language == "en"


@pytest.mark.parametrize("lang", ["en", "so", "sw"])
def test_a_payment_the_payer_cancelled_is_not_listed_as_failed(client, world, clock, lang):
    from vending.i18n import render

    number = {"en": "+254711000111", "so": "+252611000111", "sw": "+254722000222"}[lang]
    shop = world["ke"]["04123456792"]
    make_purchase(shop, amount="100", payer_phone=number, state="payment_failed", failure_reason="cancelled")
    make_purchase(shop, amount="200", payer_phone=number, state="payment_failed", failure_reason="insufficient_funds")
    phone = Phone(client, number)
    phone.dial()
    screen = phone.send("4")
    assert f"KES 100: {render('ussd.state.payment_cancelled', lang)}" in screen
    assert f"KES 200: {render('ussd.state.payment_failed', lang)}" in screen
    assert render("ussd.state.payment_cancelled", lang) != render("ussd.state.payment_failed", lang)
