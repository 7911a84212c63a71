"""Buying electricity over USSD, screen by screen, as Africa's Talking drives the endpoint."""

from decimal import Decimal

import pytest

from tests.factories import make_drn
from tests.ussd.conftest import Phone
from tests.ussd.screens import HOME, NAV, con, end, home, nav
from vending.exceptions import AmountOutOfRange
from vending.i18n import render
from vending.models import CustomerMeter, Purchase
from vending.selectors.quotes import purchase_quote

pytestmark = pytest.mark.dated  # also at month end, new year, a leap day and in 2045

PICK_EN = con(
    "Buy: pick a meter",
    "1. Home 04123456784",
    "2. Shop 04123456792",
    "3. Farm 47500150231",
    "4. Enter a new meter number",
    NAV,
)
AMOUNT_HOME_EN = con("W*** H*** 04123456784", "Enter amount, KES 20 to 35000:", NAV)


def confirm_en(quote, *, label: str, amount: str, wallet: str) -> str:
    return con(
        label,
        f"Buy {quote.currency} {amount} = {quote.kwh} kWh",
        f"VAT {quote.vat}, fixed {quote.fixed_charge}, debt {quote.debt_recovery}",
        f"Pay with {wallet}",
        "1. Confirm",
        "2. Cancel",
        NAV,
    )


def test_buy_for_a_saved_meter_with_mpesa(phone, world, clock, django_capture_on_commit_callbacks):
    meter = world["ke"]["04123456784"]
    quote = purchase_quote(meter=meter, amount=Decimal("500"), now=clock.now)
    assert phone.dial() == HOME
    assert phone.send("1") == PICK_EN
    assert phone.send("1") == AMOUNT_HOME_EN
    assert phone.send("500") == confirm_en(quote, label="W*** H***", amount="500", wallet="M-Pesa")
    with django_capture_on_commit_callbacks() as pushes:
        assert phone.send("1") == end(
            "Approve the M-Pesa prompt for KES 500 on your phone. Your token will come by SMS."
        )
    purchase = Purchase.objects.get()
    assert (purchase.channel, purchase.meter, purchase.customer, purchase.payer_phone) == (
        "ussd",
        meter,
        world["wanjiku"],
        "+254711000111",
    )
    assert (purchase.wallet, purchase.amount, purchase.currency, purchase.language) == (
        "mpesa",
        Decimal("500"),
        "KES",
        "en",
    )
    assert purchase.idempotency_key == f"ussd:{phone.session_id}"
    assert purchase.quote["kwh"] == f"{quote.kwh:f}"
    assert len(pushes) == 1  # the payment push is enqueued on commit, never sent from the view


def test_a_repeated_confirm_hop_creates_one_purchase(phone, world):
    phone.dial()
    for answer in ("1", "1", "200"):
        phone.send(answer)
    first = phone.send("1")
    assert phone.repeat() == first
    assert Purchase.objects.count() == 1


def test_cancel_on_the_confirm_screen_takes_no_money(phone, world):
    phone.dial()
    for answer in ("1", "2", "100"):
        phone.send(answer)
    assert phone.send("2") == end("Cancelled. No money was taken.")
    assert not Purchase.objects.exists()


def test_a_new_meter_number_is_checked_shown_by_name_and_saved(new_phone, world, clock):
    assert new_phone.dial() == HOME
    assert new_phone.send("1") == con("Enter the meter number:", NAV)  # no saved meters: straight to typing
    assert new_phone.send("0412345678") == con("A meter number has 11 or 13 digits.", "Enter the meter number:", NAV)
    assert new_phone.send("04123456785") == con(
        "That meter number is wrong. Please check it.", "Enter the meter number:", NAV
    )
    assert new_phone.send("0412-345-6784") == con(
        "Meter 04123456784", "W*** H***", "1. Continue", "2. Save meter and continue", NAV
    )
    assert new_phone.send("2") == AMOUNT_HOME_EN
    saved = CustomerMeter.objects.get(customer__phone="+254712345678")
    assert saved.meter.drn == "04123456784"
    quote = purchase_quote(meter=saved.meter, amount=Decimal("20"), now=clock.now)
    assert new_phone.send("20") == confirm_en(quote, label="W*** H***", amount="20", wallet="M-Pesa")
    new_phone.send("1")
    assert Purchase.objects.get().payer_phone == "+254712345678"


def test_continue_without_saving_leaves_the_list_alone(new_phone, world):
    new_phone.dial()
    new_phone.send("1")
    new_phone.send("04123456792")
    assert new_phone.send("1") == con("O*** S*** 04123456792", "Enter amount, KES 20 to 35000:", NAV)
    assert not CustomerMeter.objects.filter(customer__phone="+254712345678").exists()


def test_unknown_and_blocked_meters_are_refused_then_three_bad_inputs_end_politely(new_phone, world):
    new_phone.dial()
    new_phone.send("1")
    assert new_phone.send(make_drn()) == con(
        "We do not know that meter. Please check it.", "Enter the meter number:", NAV
    )
    assert new_phone.send(world["blocked"].drn) == con(
        "This meter cannot buy now. Call your utility.", "Enter the meter number:", NAV
    )
    assert new_phone.send("meter") == end("Too many wrong entries. Please dial again.")
    assert new_phone.dial() == HOME  # a new dial starts clean


def test_bad_amounts_reprompt_with_the_reason_and_back_and_home_work(phone, world):
    phone.dial()
    phone.send("1")
    phone.send("1")
    assert phone.send("five hundred") == con("Enter the amount in numbers.", "Enter amount, KES 20 to 35000:", NAV)
    assert phone.send("19") == con("The amount must be KES 20 to 35000.", "Enter amount, KES 20 to 35000:", NAV)
    assert phone.send("300").startswith("CON W*** H***\nBuy KES 300 = ")  # good input resets the count
    assert phone.send("0") == AMOUNT_HOME_EN
    assert phone.send("300.50") == con(  # M-Pesa takes whole shillings only
        "Enter a whole amount, without cents.", "Enter amount, KES 20 to 35000:", NAV
    )
    assert phone.send("300").startswith("CON W*** H***\nBuy KES 300 = ")  # good input resets the count
    assert phone.send("0") == AMOUNT_HOME_EN
    assert phone.send("0") == PICK_EN
    assert phone.send("0") == HOME
    phone.send("1")
    phone.send("2")
    assert phone.send("00") == HOME
    assert phone.send("x") == "CON Please choose from the list.\n" + HOME[4:].split("\n", 1)[1]


def test_somali_purchase_offers_every_usd_wallet_with_hormuud_first(somali_phone, world, clock):
    meter = world["so"]["0100000000024"]
    assert somali_phone.dial() == home("so")
    assert somali_phone.send("1") == con(
        "Iibso: dooro mitir",
        "1. Guriga 0100000000016",
        "2. Dukaanka 0100000000024",
        "3. Geli lambar mitir cusub",
        "0 Dib 00 Hoyga",
    )
    amount_screen = ["B*** S*** 1*** 0100000000024", "Geli lacagta, USD 1 ilaa 500:", "0 Dib 00 Hoyga"]
    assert somali_phone.send("2") == con(*amount_screen)
    # USD 1 cannot cover the monthly fixed charge: the tariff's own reason, in Somali.
    with pytest.raises(AmountOutOfRange) as refused:
        purchase_quote(meter=meter, amount=Decimal("1"), now=clock.now)
    reason = render(refused.value.message_key, "so", **refused.value.message_values)
    assert somali_phone.send("1") == con(reason, *amount_screen[1:])
    assert somali_phone.send("10") == con(
        "Ku bixi USD 10:", "1. EVC Plus", "2. Zaad", "3. Sahal", "4. eDahab", "0 Dib 00 Hoyga"
    )
    quote = purchase_quote(meter=meter, amount=Decimal("10"), now=clock.now)
    assert somali_phone.send("2") == con(
        "B*** S*** 1***",
        f"Iibso USD 10 = {quote.kwh} kWh",
        f"VAT {quote.vat}, go'an {quote.fixed_charge}, deyn {quote.debt_recovery}",
        "Ku bixi Zaad",
        "1. Xaqiiji",
        "2. Jooji",
        "0 Dib 00 Hoyga",
    )
    assert somali_phone.send("1") == end(
        "Ogolow codsiga Zaad ee USD 10 taleefankaaga. Tokenkaagu SMS ayuu ku iman doonaa."
    )
    purchase = Purchase.objects.get()
    assert (purchase.wallet, purchase.currency, purchase.language) == ("zaad", "USD", "so")


def test_a_telesom_phone_sees_zaad_first(client, world, clock):
    phone = Phone(client, "+252631000222")
    phone.dial()
    phone.send("1")
    phone.send("0100000000016")
    phone.send("1")
    # A number koronto has not met is addressed in its country's language (Somali for +252).
    assert phone.send("5") == con("Ku bixi USD 5:", "1. Zaad", "2. EVC Plus", "3. Sahal", "4. eDahab", "0 Dib 00 Hoyga")


def test_swahili_purchase_with_a_typed_meter(swahili_phone, world, clock):
    meter = world["ke"]["04123456800"]
    assert swahili_phone.dial() == home("sw")
    assert swahili_phone.send("1") == con("Weka namba ya mita:", nav("sw"))
    assert swahili_phone.send("04123456800") == con(
        "Mita 04123456800", "A*** F*** 3***", "1. Endelea", "2. Hifadhi mita na uendelee", nav("sw")
    )
    assert swahili_phone.send("1") == con("A*** F*** 3*** 04123456800", "Weka kiasi, KES 20 hadi 35000:", nav("sw"))
    quote = purchase_quote(meter=meter, amount=Decimal("1000"), now=clock.now)
    assert swahili_phone.send("1000") == con(
        "A*** F*** 3***",
        f"Nunua KES 1000 = {quote.kwh} kWh",
        f"VAT {quote.vat} ada {quote.fixed_charge} deni {quote.debt_recovery}",
        "Lipa: M-Pesa",
        "1. Thibitisha",
        "2. Ghairi",
        nav("sw"),
    )
    assert swahili_phone.send("1") == end("Kubali ombi la M-Pesa la KES 1000 kwenye simu yako. Tokeni itakuja kwa SMS.")
    assert Purchase.objects.get().language == "sw"


def test_the_units_on_the_confirm_screen_are_the_units_bought(phone, world, clock):
    from tests.factories import make_credit_token

    meter = world["ke"]["04123456784"]
    shown = purchase_quote(meter=meter, amount=Decimal("500"), now=clock.now)
    phone.dial()
    for answer in ("1", "1"):
        phone.send(answer)
    assert f"= {shown.kwh} kWh" in phone.send("500")
    # Bought elsewhere while this customer reads (at the test clock): a dearer block now.
    make_credit_token(meter, units="150", created_at=clock.now)
    assert purchase_quote(meter=meter, amount=Decimal("500"), now=clock.now).kwh != shown.kwh
    phone.send("1")
    assert Purchase.objects.get().quote["kwh"] == f"{shown.kwh:f}"
