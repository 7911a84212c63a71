"""The SMS catalogue: every message in every language, one GSM-7 SMS even with the longest values."""

import pytest

from ussd import sms_commands  # noqa: F401  (registers the catalogue)
from vending import i18n
from vending.sms import gsm7

SMS_KEYS = sorted(k for k in i18n.keys("en") if k.startswith("sms."))
# A list of saved meters grows with the customer's meters; the sender splits it into parts.
GROWS = {"sms.meters.list"}

LONGEST = {
    "drn": "0100000000016",
    "name": "N" * 20,
    "alias": "A" * 20,
    "meter": "M" * 20,
    "summary": "SLSH 1,000,000 = 1,638.4 kWh",
    "ref": "R" * 12,
    "wallets": "EVC/ZAAD/SAHAL/EDAHAB",
    "words": "W" * 24,  # sms_commands.MAX_QUOTED
    "wallet": "MPESA",
    "currency": "SLSH",
    "amount": "SLSH 1,000,000",
    "date": "31/12 23:59",
    "meters": "",
}


def _longest_values(lang: str) -> dict[str, str]:
    examples = [i18n.render(k, lang) for k in SMS_KEYS if k.startswith("sms.example.")]
    states = [i18n.render(k, lang) for k in SMS_KEYS if k.startswith("sms.state.")]
    return {**LONGEST, "example": max(examples, key=len), "state": max(states, key=len)}


def test_every_key_exists_in_every_language():
    for lang in i18n.LANGUAGES:
        assert set(SMS_KEYS) <= i18n.keys(lang), f"missing in {lang}: {set(SMS_KEYS) - i18n.keys(lang)}"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_message_fits_one_gsm7_sms_with_the_longest_values(lang):
    values = _longest_values(lang)
    too_long = {}
    for key in SMS_KEYS:
        if key in GROWS:
            continue
        text = i18n.render(key, lang, **values)
        assert gsm7.is_gsm7(text), f"{lang} {key} is not GSM-7: {text!r}"
        if gsm7.septets(text) > 160:
            too_long[key] = gsm7.septets(text)
    assert too_long == {}


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_help_lists_every_command_keyword_of_its_language(lang):
    from ussd.sms_parser import KEYWORDS

    help_text = i18n.render("sms.help", lang)
    commands = {name for name, kw_lang in KEYWORDS.values() if kw_lang == lang}
    listed = {KEYWORDS[word][0] for word in help_text.replace("[", " ").replace(",", " ").split() if word in KEYWORDS}
    assert commands - {"help"} <= listed
