"""Every menu walked in English, Somali and Swahili: the same conversation, each screen in the customer's words."""

import pytest

from tests.ussd.screens import con, end, home
from vending.i18n import render
from vending.models import Customer, CustomerMeter

LANGS = ("en", "so", "sw")


@pytest.fixture(params=LANGS)
def lang(request, phone, world):
    Customer.objects.filter(phone=phone.number).update(language=request.param)
    return request.param


def t(key, lang, **values):
    return render(key, lang, **values)


def saved_list(lang, title_key, last_key):
    nav = t("ussd.nav", lang)
    return con(
        t(title_key, lang),
        "1. Home 04123456784",
        "2. Shop 04123456792",
        "3. Farm 47500150231",
        f"4. {t(last_key, lang)}",
        nav,
    )


def test_my_meters_in_each_language(phone, lang, clock):
    nav = t("ussd.nav", lang)
    assert phone.dial() == home(lang)
    assert phone.send("2") == saved_list(lang, "ussd.meters.title", "ussd.item.add_meter")
    assert phone.send("1") == con(
        t("ussd.meters.actions", lang, name="Home", drn="04123456784", label="W*** H***"), nav
    )
    rename = t("ussd.meters.rename", lang, drn="04123456784")
    assert phone.send("1") == con(rename, nav)
    assert phone.send("#!") == con(t("ussd.err.name", lang), rename, nav)
    assert phone.send("Nyumbani") == end(t("ussd.meters.renamed", lang, drn="04123456784", name="Nyumbani"))

    clock.advance(minutes=5)
    phone.dial()
    phone.send("2")
    assert phone.send("4") == con(t("ussd.enter_meter", lang), nav)
    assert phone.send("04123456800") == con(
        t("ussd.meters.add_name", lang, label="A*** F*** 3***", drn="04123456800"), nav
    )
    assert phone.send("Mama") == end(t("ussd.meters.saved", lang, drn="04123456800", name="Mama"))

    clock.advance(minutes=5)
    phone.dial()
    phone.send("2")
    phone.send("3")
    assert phone.send("2") == con(t("ussd.meters.remove", lang, name="Farm", drn="47500150231"), nav)
    assert phone.send("1") == end(t("ussd.meters.removed", lang, drn="47500150231"))
    aliases = dict(CustomerMeter.objects.filter(customer__phone=phone.number).values_list("meter__drn", "alias"))
    assert aliases == {"04123456784": "Nyumbani", "04123456792": "Shop", "04123456800": "Mama"}


def test_tokens_status_language_and_navigation_in_each_language(phone, lang):
    nav = t("ussd.nav", lang)
    assert phone.dial() == home(lang)
    assert phone.send("3") == saved_list(lang, "ussd.tokens.pick_meter", "ussd.item.new_meter")
    assert phone.send("4") == con(t("ussd.enter_meter", lang), nav)
    assert phone.send("04123456800") == con(t("ussd.tokens.none", lang, drn="04123456800"), nav)
    assert phone.send("0") == con(t("ussd.enter_meter", lang), nav)
    assert phone.send("00") == home(lang)
    assert phone.send("4") == con(t("ussd.status.none", lang), nav)
    assert phone.send("0") == home(lang)
    assert phone.send("5") == con("Language / Luqadda / Lugha", "1. English", "2. Soomaali", "3. Kiswahili", nav)
    assert phone.send(str(LANGS.index(lang) + 1)) == home(lang)
    choose = t("ussd.err.choice", lang)
    menu = home(lang).split("\n", 1)[1]
    assert phone.send("9") == con(choose, menu)
    assert phone.send("*") == con(choose, menu)
    assert phone.send("") == end(t("ussd.too_many_errors", lang))


def test_resume_and_limits_in_each_language(phone, lang, clock, settings):
    clock.to_start_of_hour()
    phone.dial()
    phone.send("1")
    clock.advance(seconds=60)
    assert phone.dial() == con(t("ussd.resume", lang))
    assert phone.send("1") == saved_list(lang, "ussd.buy.pick_meter", "ussd.item.new_meter")
    settings.USSD_DIALS_PER_HOUR = 2
    assert phone.dial() == end(t("ussd.dial_limit", lang))
