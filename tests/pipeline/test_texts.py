"""Every pipeline message fits one GSM-7 SMS in every language, with realistic values."""

import pytest

from vending import (
    i18n,
    texts,  # noqa: F401  (registers the catalogue)
)
from vending.sms import gsm7

VALUES = {
    "ref": "ABCD2345EF",
    "ussd": "*384*44135#",
    "wallet": "EVC Plus",
    "currency": "KES",
    "amount": "35000.00",
    "token": "1234 5678 9012 3456 7890",
    "kwh": "1834.5",
    "drn": "0100000000016",
    "breakdown": "",
    "count": 2,
    "key_tokens": "1) 1234 5678 9012 3456 7890\n2) 1234 5678 9012 3456 7890",
}


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_pipeline_messages_fit_one_gsm7_sms(lang):
    catalogue = i18n.keys(i18n.DEFAULT_LANGUAGE)
    keys = [k for k in catalogue if k.startswith("pipeline.") and k != "pipeline.token_with_keys"]
    assert not i18n.missing_translations().get(lang, [])
    for key in keys:
        text = i18n.render(key, lang, **VALUES)
        assert gsm7.is_gsm7(text), key
        assert gsm7.septets(text) <= 160, (key, len(text))


@pytest.mark.parametrize(("lang", "buy"), [("en", "BUY"), ("so", "IIBSO"), ("sw", "NUNUA")])
def test_the_wrong_pin_sms_says_how_to_try_again(lang, buy):
    text = i18n.render("pipeline.failed.wrong_pin", lang, **VALUES)
    assert VALUES["ussd"] in text and buy in text  # dial the code again, or send the BUY command again
