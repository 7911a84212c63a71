"""SMS round trips over HTTP, as Africa's Talking posts them: each command, in each language, with the
slips customers make, answered with the right text (tasks run inline; sandbox payments; console SMS)."""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from tests.sms_channel.conftest import GURI, HOME, NEW_KE_PHONE, NEW_SO_PHONE, OFFICE, SHOP, SO_PHONE, SW_PHONE
from tests.sms_channel.conftest import KE_PHONE as EN_PHONE
from ussd.sms_commands import sms_texts  # noqa: F401
from vending import i18n
from vending.models import Customer, CustomerMeter, Meter, Purchase, Token
from vending.services.sms import token_sms_text
from vending.states import PurchaseState


@dataclass(frozen=True)
class Speaker:
    """One language's customer: their phone, a meter they buy for, an amount, and their keywords."""

    lang: str
    phone: str
    drn: str
    amount: str
    currency: str
    kw: dict[str, str]

    def render(self, key: str, **values) -> str:
        return i18n.render(key, self.lang, **values)

    def example(self, command: str) -> str:
        return i18n.render(f"sms.example.{command}", self.lang)


EN = Speaker(
    "en",
    EN_PHONE,
    HOME,
    "500",
    "KES",
    {
        "buy": "BUY",
        "token": "TOKEN",
        "meters": "METERS",
        "add": "ADD",
        "remove": "REMOVE",
        "status": "STATUS",
        "lang": "LANG",
        "help": "HELP",
    },
)
SO = Speaker(
    "so",
    SO_PHONE,
    GURI,
    "10",
    "USD",
    {
        "buy": "IIBSO",
        "token": "KOODH",
        "meters": "MITIRO",
        "add": "KUDAR",
        "remove": "KASAAR",
        "status": "XAALAD",
        "lang": "LUQAD",
        "help": "CAAWI",
    },
)
SW = Speaker(
    "sw",
    SW_PHONE,
    SHOP,
    "200",
    "KES",
    {
        "buy": "NUNUA",
        "token": "TOKENI",
        "meters": "MITA",
        "add": "ONGEZA",
        "remove": "ONDOA",
        "status": "HALI",
        "lang": "LUGHA",
        "help": "MSAADA",
    },
)
SPEAKERS = pytest.mark.parametrize("who", [EN, SO, SW], ids=lambda s: s.lang)


# --- BUY ----------------------------------------------------------------------------------------------------

# The same purchase, typed the ways people type it ({kw} keyword, {drn} meter, {amt} amount).
BUY_FORMS = {
    "plain": "{kw} {drn} {amt}",
    "lower_case": "{kw_lower} {drn} {amt}",
    "extra_spaces": "   {kw}    {drn}     {amt}  ",
    "ussd_stars": "{kw}*{drn}*{amt}",
    "commas": "{kw},{drn},{amt}",
    "glued_keyword": "{kw}{drn} {amt}",
    "grouped_meter": "{kw} {drn_grouped} {amt}",
    "letter_o_for_zero": "{kw} {drn_o} {amt}",
    "currency": "{kw} {drn} {cur}{amt}",
    "trailing_dot": "{kw} {drn} {amt}.",
    "keyword_slip": "{kw_slip} {drn} {amt}",
}


def _fill(form: str, who: Speaker) -> str:
    kw = who.kw["buy"]
    return form.format(
        kw=kw,
        kw_lower=kw.lower(),
        kw_slip=kw[:-1] + kw[-1] * 2,
        drn=who.drn,
        amt=who.amount,
        drn_grouped=f"{who.drn[:4]} {who.drn[4:7]}-{who.drn[7:]}",
        drn_o=who.drn.replace("0", "O"),
        cur="KES" if who.currency == "KES" else "$",
    )


@SPEAKERS
@pytest.mark.parametrize("form", list(BUY_FORMS), ids=list(BUY_FORMS))
def test_buy_in_every_language_and_form_ends_in_a_token_sms(at, who, form):
    reply = at.send(who.phone, _fill(BUY_FORMS[form], who), message_id=f"ATXid_buy_{who.lang}_{form}")

    purchase = Purchase.objects.get()
    assert (purchase.channel, purchase.payer_phone, purchase.amount, purchase.meter.drn, purchase.language) == (
        "sms",
        who.phone,
        Decimal(who.amount),
        who.drn,
        who.lang,
    )
    assert purchase.idempotency_key == f"sms:ATXid_buy_{who.lang}_{form}"
    prompt = who.render(
        "sms.buy.prompt",
        summary=f"{who.currency} {who.amount} = {purchase.quote['kwh']} kWh",
        drn=who.drn,
        ref=purchase.reference,
    )
    assert reply.startswith(prompt + "\n")
    # Sandbox payment approved inline, token issued, token SMS sent to the buyer: the rest of the reply.
    assert purchase.state == PurchaseState.DELIVERED
    assert reply.endswith(token_sms_text(purchase=purchase, tokens=list(purchase.tokens.all())))


def test_buy_by_alias_and_wallet_from_the_network(at):
    at.send(EN_PHONE, "buy shop 1,000")
    at.send(SO_PHONE, "IIBSO guri $12.50")
    at.send("+252631000222", "BUY 0100000000016 5")  # Telesom: Zaad
    wallets = {p.payer_phone: (p.meter.drn, p.amount, p.wallet) for p in Purchase.objects.all()}
    assert wallets == {
        EN_PHONE: (SHOP, Decimal("1000"), "mpesa"),
        SO_PHONE: (GURI, Decimal("12.50"), "evcplus"),
        "+252631000222": (GURI, Decimal("5"), "zaad"),
    }


def test_buy_with_a_named_wallet(at):
    at.send(SO_PHONE, "IIBSO Guri 10 Sahal")
    assert Purchase.objects.get().wallet == "sahal"


def test_a_repeated_buy_message_pushes_once(at):
    form = at.form(EN_PHONE, f"BUY {HOME} 500", "ATXid_twice")
    at.post(form)
    at.post(form)
    assert Purchase.objects.count() == 1


def test_a_new_buy_message_is_a_new_purchase(at):
    at.send(EN_PHONE, f"BUY {HOME} 500")
    at.send(EN_PHONE, f"BUY {HOME} 500")
    assert Purchase.objects.count() == 2


@SPEAKERS
@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("{kw}", "sms.err.meter.missing"),
        ("{kw} {amt}", "sms.err.meter.missing"),
        ("{kw} {drn}", "sms.err.amount.missing"),
        ("{kw} {drn_bad}", "sms.err.amount.missing"),
        ("{kw} {drn_bad} {amt}", "sms.err.meter.check_digit"),
        ("{kw} {drn_short} {amt}", "sms.err.meter.length"),
        ("{kw} {drn} 0", "sms.err.amount.zero"),
        ("{kw} {drn} 10.505", "sms.err.amount.format"),
        ("{kw} {drn} 5x0", "sms.err.amount.format"),
        ("{kw} {drn} {amt} AIRTEL", "sms.err.wallet.unknown"),
    ],
    ids=[
        "nothing",
        "no_meter",
        "no_amount",
        "no_amount_bad_meter",
        "check_digit",
        "short_meter",
        "zero",
        "three_decimals",
        "letters_in_amount",
        "unknown_wallet",
    ],
)
def test_buy_typos_say_which_part_and_the_right_form(at, who, text, key):
    sent = text.format(
        kw=who.kw["buy"],
        drn=who.drn,
        amt=who.amount,
        drn_bad=who.drn[:-1] + str((int(who.drn[-1]) + 1) % 10),
        drn_short=who.drn[:-1],
    )
    assert at.send(who.phone, sent) == who.render(key, example=who.example("buy"))
    assert not Purchase.objects.exists()


@SPEAKERS
def test_buy_for_an_unregistered_meter(at, who):
    assert at.send(who.phone, f"{who.kw['buy']} 01234567897 {who.amount}") == who.render(
        "sms.error.unknown_meter", drn="01234567897"
    )


@SPEAKERS
def test_buy_for_an_alias_not_saved(at, who):
    assert at.send(who.phone, f"{who.kw['buy']} Kitchen {who.amount}") == who.render(
        "sms.alias.unknown", alias="Kitchen"
    )


@SPEAKERS
def test_buy_outside_the_tariff_range_says_the_range(at, who):
    reply = at.send(who.phone, f"{who.kw['buy']} {who.drn} 99999")
    low, high = ("10", "10,000") if who.currency == "KES" else ("1", "500")
    assert reply == who.render("tariff.error.range", minimum=f"{who.currency} {low}", maximum=f"{who.currency} {high}")


@SPEAKERS
def test_buy_for_a_blocked_meter(at, who):
    Meter.objects.filter(drn=who.drn).update(status=Meter.Status.BLOCKED)
    assert at.send(who.phone, f"{who.kw['buy']} {who.drn} {who.amount}") == who.render(
        "sms.error.meter_blocked", drn=who.drn
    )


def test_buy_with_a_wallet_that_cannot_pay_the_meters_currency(at):
    assert at.send(SO_PHONE, f"IIBSO {GURI} 10 MPESA") == SO.render(
        "sms.error.unsupported_wallet", drn=GURI, currency="USD", wallets="EVC/ZAAD/SAHAL/EDAHAB"
    )


def test_buy_from_a_network_without_a_wallet_asks_for_one(at):
    # Nationlink (+25269…) has no wallet we take, and a USD meter can be paid by four.
    assert at.send("+252691234567", f"BUY {GURI} 10") == SO.render(
        "sms.buy.need_wallet", wallets="EVC/ZAAD/SAHAL/EDAHAB", wallet="EVC", example=SO.example("buy")
    )


def test_buy_from_a_somtel_phone_pays_with_edahab(at):
    at.send("+252621234567", f"BUY {GURI} 10")
    assert Purchase.objects.get().wallet == "edahab"  # the phone's own network's wallet


def test_payment_push_goes_to_the_sender_only(at):
    at.send(SW_PHONE, f"NUNUA {HOME} 300")  # a meter someone else saved: still the sender pays
    purchase = Purchase.objects.get()
    assert (purchase.payer_phone, purchase.customer.phone) == (SW_PHONE, SW_PHONE)


# --- TOKEN --------------------------------------------------------------------------------------------------


@SPEAKERS
def test_token_resends_the_last_token_for_the_meter(at, who):
    at.send(who.phone, f"{who.kw['buy']} {who.drn} {who.amount}")
    purchase = Purchase.objects.get()
    token_sms = token_sms_text(purchase=purchase, tokens=list(purchase.tokens.all()))
    assert at.send(who.phone, f"{who.kw['token']} {who.drn}") == token_sms
    assert at.send(who.phone, who.kw["token"].lower()) == token_sms


def test_token_by_alias_and_for_each_meter_bought_lately(at):
    at.send(EN_PHONE, f"BUY {HOME} 500")
    at.send(EN_PHONE, f"BUY {SHOP} 200")
    home, shop = Purchase.objects.get(meter__drn=HOME), Purchase.objects.get(meter__drn=SHOP)
    text = {p.pk: token_sms_text(purchase=p, tokens=list(p.tokens.all())) for p in (home, shop)}
    assert at.send(EN_PHONE, "token home") == text[home.pk]
    assert at.send(EN_PHONE, "TOKEN") == f"{text[shop.pk]}\n{text[home.pk]}"


@pytest.mark.parametrize(("other", "keyword", "lang"), [(SW_PHONE, "TOKENI", "sw"), (NEW_SO_PHONE, "KOODH", "so")])
def test_token_is_never_sent_to_another_phone(at, other, keyword, lang):
    at.send(EN_PHONE, f"BUY {HOME} 500")
    assert Token.objects.count() == 1
    at.send(other, f"ADD {HOME} Home")  # saving the meter gives no right to its tokens
    assert at.send(other, f"{keyword} {HOME}") == i18n.render("sms.token.none", lang, drn=HOME)
    assert at.send(other, "TOKEN home") == i18n.render("sms.token.none", lang, drn=HOME)


@SPEAKERS
def test_token_when_nothing_was_bought(at, who):
    assert at.send(who.phone, who.kw["token"]) == who.render("sms.token.none_any", example=who.example("buy"))


def test_token_while_the_payment_is_pending(at):
    from tests.factories import make_purchase

    make_purchase(Meter.objects.get(drn=HOME), payer_phone=EN_PHONE)  # created, not paid yet
    assert at.send(EN_PHONE, f"TOKEN {HOME}") == EN.render("sms.token.not_ready", drn=HOME)


# --- METERS, ADD, REMOVE -------------------------------------------------------------------------------------


def test_meters_lists_saved_meters(at):
    assert at.send(EN_PHONE, "meters") == "Your meters: Home 04123456784; Shop 04123456792"
    assert at.send(SO_PHONE, "MITIRO") == "Mitirradaada: Guri 0100000000016"
    assert at.send(SW_PHONE, "Mita") == SW.render("sms.meters.none", example=SW.example("add"))


@SPEAKERS
def test_add_then_list_then_remove(at, who):
    assert at.send(who.phone, f"{who.kw['add']} {OFFICE} Ofisi") == who.render(
        "sms.add.done", drn=OFFICE, name="O*** B***", alias="Ofisi"
    )
    assert at.send(who.phone, who.kw["meters"]).endswith(f"Ofisi {OFFICE}")
    assert at.send(who.phone, f"{who.kw['remove']} ofisi") == who.render("sms.remove.done", drn=OFFICE)
    assert not CustomerMeter.objects.filter(customer__phone=who.phone, meter__drn=OFFICE).exists()
    assert at.send(who.phone, f"{who.kw['remove']} {OFFICE}") == who.render("sms.remove.not_saved", meter=OFFICE)


def test_add_without_a_name_and_with_the_name_first(at):
    assert at.send(SW_PHONE, f"ongeza {OFFICE}") == SW.render("sms.add.done_plain", drn=OFFICE, name="O*** B***")
    assert at.send(EN_PHONE, f"add Office {OFFICE}") == EN.render(
        "sms.add.done", drn=OFFICE, name="O*** B***", alias="Office"
    )
    assert at.send(SW_PHONE, "mita") == f"Mita zako: {OFFICE} (O*** B***)"


@SPEAKERS
@pytest.mark.parametrize(
    ("text", "key", "command"),
    [
        ("{add}", "sms.err.meter.missing", "add"),
        ("{add} Home", "sms.err.meter.not_digits", "add"),
        ("{add} 04123456785 Home", "sms.err.meter.check_digit", "add"),
        ("{remove}", "sms.err.meter.missing", "remove"),
    ],
    ids=["add_nothing", "add_name_only", "add_check_digit", "remove_nothing"],
)
def test_add_and_remove_typos(at, who, text, key, command):
    assert at.send(who.phone, text.format(**who.kw)) == who.render(key, example=who.example(command))


def test_add_an_unregistered_meter(at):
    assert at.send(EN_PHONE, "ADD 01234567897 Farm") == EN.render("sms.error.unknown_meter", drn="01234567897")


# --- STATUS ------------------------------------------------------------------------------------------------


@SPEAKERS
def test_status_of_the_last_purchase_and_by_reference(at, who):
    assert at.send(who.phone, who.kw["status"]) == who.render("sms.status.none", example=who.example("buy"))
    at.send(who.phone, f"{who.kw['buy']} {who.drn} {who.amount}")
    purchase = Purchase.objects.get()
    from django.utils import timezone

    expected = who.render(
        "sms.status.line",
        ref=purchase.reference,
        amount=f"{who.currency} {who.amount}",
        drn=who.drn,
        date=timezone.localtime(purchase.created_at).strftime("%d/%m %H:%M"),
        state=who.render("sms.state.delivered"),
    )
    assert at.send(who.phone, who.kw["status"]) == expected
    assert at.send(who.phone, f"{who.kw['status']} {purchase.reference.lower()}") == expected


def test_status_of_someone_elses_reference_is_not_found(at):
    at.send(EN_PHONE, f"BUY {HOME} 500")
    reference = Purchase.objects.get().reference
    assert at.send(SW_PHONE, f"HALI {reference}") == SW.render("sms.status.not_found", ref=reference)


def test_status_with_an_unreadable_reference(at):
    assert at.send(EN_PHONE, "STATUS ab") == EN.render("sms.err.reference.format", example=EN.example("status"))


# --- LANG, HELP, anything else ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("LANG SO", "so"),
        ("luqad af-soomaali", "so"),
        ("lugha kiswahili", "sw"),
        ("language English", "en"),
        ("LANG sw", "sw"),
    ],
)
def test_lang_switches_every_later_reply(at, text, lang):
    assert at.send(EN_PHONE, text) == i18n.render("sms.lang.done", lang)
    assert Customer.objects.get(phone=EN_PHONE).language == lang
    assert at.send(EN_PHONE, "help") == i18n.render("sms.help", lang)


@SPEAKERS
def test_lang_typos(at, who):
    assert at.send(who.phone, who.kw["lang"]) == who.render("sms.err.language.missing")
    assert at.send(who.phone, f"{who.kw['lang']} french") == who.render("sms.err.language.unknown")


@SPEAKERS
@pytest.mark.parametrize("form", ["{help}", "{help_lower}!", "  {help}  please"])
def test_help_in_every_language(at, who, form):
    assert at.send(who.phone, form.format(help=who.kw["help"], help_lower=who.kw["help"].lower())) == who.render(
        "sms.help"
    )


@SPEAKERS
@pytest.mark.parametrize("text", ["", "hello", "Habari", "04123456784 500", "?", "BU 04123456784 500", "😀 umeme"])
def test_anything_else_gets_the_short_help(at, who, text):
    assert at.send(who.phone, text) == who.render("sms.unknown")


# --- language of a sender we do not know yet --------------------------------------------------------------------


def test_new_sender_is_answered_in_the_language_of_the_keyword_and_it_is_kept(at):
    assert at.send(NEW_KE_PHONE, f"NUNUA {HOME}") == SW.render("sms.err.amount.missing", example=SW.example("buy"))
    assert not Customer.objects.filter(phone=NEW_KE_PHONE).exists()  # a question makes no customer record
    at.send(NEW_KE_PHONE, f"NUNUA {HOME} 100")
    assert Customer.objects.get(phone=NEW_KE_PHONE).language == "sw"
    assert at.send(NEW_KE_PHONE, "HELP") == SW.render("sms.help")


def test_new_sender_without_a_language_keyword_is_answered_by_country(at):
    assert at.send(NEW_SO_PHONE, "hello") == SO.render("sms.unknown")
    assert at.send(NEW_KE_PHONE, "hello") == EN.render("sms.unknown")


def test_a_known_customers_language_wins_over_the_keyword(at):
    assert at.send(EN_PHONE, "MSAADA") == EN.render("sms.help")


def test_a_long_reply_is_split_into_numbered_gsm7_parts(at, world):
    from tests.factories import make_meter
    from vending.models import SmsMessage
    from vending.sms import gsm7

    customer = Customer.objects.get(phone=EN_PHONE)
    for n in range(10):
        meter = make_meter(supply_group=world.home.supply_group, tariff=world.home.tariff)
        CustomerMeter.objects.create(customer=customer, meter=meter, alias=f"Flat {n} Ngong Road")
    at.send(EN_PHONE, "METERS")
    parts = list(
        SmsMessage.objects.filter(direction="out", phone=EN_PHONE).order_by("pk").values_list("text", flat=True)
    )
    assert len(parts) > 1
    assert all(gsm7.is_gsm7(p) and gsm7.septets(p) <= 160 for p in parts)
    assert parts[0].startswith(f"(1/{len(parts)}) Your meters: Home 04123456784; Shop")
    assert "Flat 9 Ngong Road" in parts[-1]


def test_a_very_long_message_id_still_makes_one_purchase(at):
    long_id = "ATXid_" + "9" * 74
    form = at.form(EN_PHONE, f"BUY {HOME} 500", long_id)
    at.post(form)
    at.post(form)
    purchase = Purchase.objects.get()
    assert purchase.idempotency_key.startswith("sms:#") and len(purchase.idempotency_key) <= 80


@SPEAKERS
def test_a_buy_signed_off_with_emoji_is_a_purchase(at, who):
    at.send(who.phone, f"{who.kw['buy']} {who.drn} {who.amount} ⚡🙏")
    assert Purchase.objects.get().amount == Decimal(who.amount)


@SPEAKERS
def test_words_after_a_buy_are_quoted_back(at, who):
    reply = at.send(who.phone, f"{who.kw['buy']} {who.drn} {who.amount} asap pretty please")
    assert reply == who.render("sms.err.amount.extra", words="asap pretty please", example=who.example("buy"))
    assert not Purchase.objects.exists()
