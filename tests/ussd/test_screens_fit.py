"""Every USSD screen, in every language, with the longest values it can carry: ≤ 160 characters, GSM-7 only."""

import string

import pytest

import ussd.i18n
import vending.tariffs  # noqa: F401  (registers the tariff refusals buy.amount shows)
from tests.ussd.fake_reader import FakeReader
from ussd import machine
from ussd.conversation import Ctx, MeterInfo, PurchaseInfo, QuoteInfo, SavedMeter, TokenInfo
from vending.i18n import keys, missing_translations, render
from vending.sms.gsm7 import is_gsm7

LANGS = ("en", "so", "sw")
BIG = "9999999.99"
LONG_LABEL = "Warta Nabadda Maternity Clinic and Pharmacy Block C"  # far past what a screen shows
METER = MeterInfo(drn="0100000000016", label=LONG_LABEL, active=True, currency="SLSH", min_amount=BIG, max_amount=BIG)
# The parts of a quote add up to its amount: the longest amount cannot also carry the longest VAT and debt.
QUOTE = QuoteInfo(
    amount=BIG, currency="SLSH", kwh="99999.9", vat="1379310.34", fixed_charge="99999.99", debt_recovery="999999.99"
)
SAVED = [SavedMeter(f"{n:013d}", f"Alias with many letters {n}", LONG_LABEL) for n in range(20)]
TOKENS = [TokenInfo("ABCDEFGHJK", "1234 5678 9012 3456 7890", "99999.9") for _ in range(3)]
PURCHASES = [PurchaseInfo("ABCDEFGHJK", BIG, "SLSH", LONG_LABEL, state, "30/12 23:59") for state in ussd.i18n.STATES]
READER = FakeReader(
    saved=SAVED,
    meters={METER.drn: METER},
    wallet_ids=["evcplus", "zaad", "sahal", "mpesa"],
    tokens=TOKENS,
    purchases=PURCHASES,
    quote_value=QUOTE,
)
SAVED_DATA = {"drn": METER.drn, "alias": "Alias with many letters", "label": LONG_LABEL}
DATA = {
    "home": [{}],
    "resume": [{"saved": {"screen": "home", "data": {}}}],
    "language": [{}],
    "pick_meter": [{"for": "buy", "page": p} for p in range(8)] + [{"for": "tokens"}],
    "enter_meter": [{"for": f} for f in ("buy", "tokens", "add")],
    "buy.meter_found": [{"meter": METER.to_dict()}],
    "buy.amount": [{"meter": METER.to_dict()}],
    "buy.wallet": [{"meter": METER.to_dict(), "quote": QUOTE.to_dict()}],
    "buy.confirm": [
        {"meter": METER.to_dict(), "quote": QUOTE.to_dict(), "wallet": w} for w in ("mpesa", "evcplus", "zaad", "sahal")
    ],
    "meters": [{"page": p} for p in range(8)],
    "meters.actions": [SAVED_DATA],
    "meters.rename": [SAVED_DATA],
    "meters.remove": [SAVED_DATA],
    "meters.add_name": [{"meter": METER.to_dict()}],
    "tokens.list": [{"drn": METER.drn, "name": LONG_LABEL}],
    "status": [{"page": p} for p in range(4)],
    "status.detail": [
        {
            "reference": "ABCDEFGHJK",
            "amount": BIG,
            "currency": "SLSH",
            "name": LONG_LABEL,
            "state": state,
            "date": "30/12 23:59",
        }
        for state in ussd.i18n.STATES
    ],
}
MAX_VALUES = {
    "currency": "SLSH",
    "min": BIG,
    "max": BIG,
    "amount": BIG,
    "wallet": "EVC Plus",
    "drn": "0" * 13,
    "name": "N" * 20,
    "reference": "ABCDEFGHJK",
}


def _note(key: str, lang: str) -> str:
    fields = {name for _, name, _, _ in string.Formatter().parse(render(key, "en")) if name}
    return render(key, lang, **{f: MAX_VALUES.get(f, BIG) for f in fields})


def test_every_screen_is_registered_with_test_data():
    assert set(DATA) == set(machine.REGISTRY)


@pytest.mark.parametrize("lang", LANGS)
def test_every_screen_fits_in_160_gsm7_characters(lang):
    checked = 0
    for name, datas in DATA.items():
        screen = machine.REGISTRY[name]
        for data in datas:
            for note in ["", *(_note(key, lang) for key in screen.notes)]:
                body = screen.render(Ctx(lang=lang, data=data, reader=READER, note=note))
                reply = "CON " + body
                assert len(reply) <= 160, (name, note, reply)
                assert is_gsm7(reply), (name, reply)
                checked += 1
    assert checked > 100


@pytest.mark.parametrize("lang", LANGS)
def test_every_end_message_fits(lang):
    for key in keys(lang):
        if not key.startswith("ussd."):
            continue
        template = render(key, "en")
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        text = render(key, lang, **{f: MAX_VALUES.get(f, BIG) for f in fields})
        assert len("END " + text) <= 160 and is_gsm7(text), (key, text)


def test_every_ussd_message_exists_in_every_language():
    missing = {lang: [k for k in ks if k.startswith("ussd.")] for lang, ks in missing_translations().items()}
    assert not any(missing.values()), missing
    assert {k for k in keys("en") if k.startswith("ussd.")} == {k for k in keys("so") if k.startswith("ussd.")}
