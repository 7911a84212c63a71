"""GSM-7 where the text allows, UCS-2 otherwise; segments per message; the token SMS stays one segment."""

from __future__ import annotations

import pytest

from tests.factories import make_credit_token, make_meter, make_purchase
from vending.models import SmsMessage
from vending.services.sms import sms_parts, token_sms_send
from vending.sms.encoding import Encoding, encoding_of, prepare, segments, units


def test_gsm7_text_stays_gsm7_and_typography_is_mapped_into_it():
    assert prepare("Token 1234 @ £5 {ok}") == ("Token 1234 @ £5 {ok}", Encoding.GSM7)
    assert prepare("\u201cHi\u201d \u2014 caf\u00e1") == ('"Hi" - cafa', Encoding.GSM7)


@pytest.mark.parametrize("text", ["Guriga \u0645\u0631\u062d\u0628\u0627", "Thanks \u26a1\U0001f64f", "\u4e2d\u6587"])
def test_text_without_a_gsm7_stand_in_goes_as_ucs2_unchanged(text):
    assert prepare(text) == (text, Encoding.UCS2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x" * 160, 1),
        ("x" * 161, 2),
        ("x" * 306, 2),
        ("x" * 307, 3),
        ("€" * 80, 1),
        ("€" * 81, 2),
        ("\u0645" * 70, 1),
        ("\u0645" * 71, 2),
        ("\u0645" * 134, 2),
        ("\u0645" * 135, 3),
        ("\U0001f64f" * 35, 1),
        ("\U0001f64f" * 36, 2),  # an emoji is two UTF-16 units
    ],
)
def test_segments_follow_the_single_and_concatenated_limits(text, expected):
    assert segments(text) == expected


def test_a_long_ucs2_text_is_split_into_numbered_parts_of_one_segment_each():
    text = " ".join(["\u0645\u0631\u062d\u0628\u0627"] * 40)  # 239 characters, not GSM-7
    parts = sms_parts(text)
    assert len(parts) == 4 and parts[0].startswith("(1/4) ")
    assert all(encoding_of(p) == Encoding.UCS2 and units(p, Encoding.UCS2) <= 70 and segments(p) == 1 for p in parts)


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["en", "so", "sw"])
def test_the_token_sms_is_one_gsm7_segment_in_every_language(lang, settings, django_capture_on_commit_callbacks):
    # The longest realistic values: five-figure amount and kWh, a full breakdown, a 13-digit meter number.
    meter = make_meter(drn="0100000000016")
    purchase = make_purchase(
        meter,
        amount="35000.00",
        language=lang,
        payer_phone="+252611000111",
        quote={"vat": "4827.59", "fixed_charge": "150.00", "debt_recovery": "1200.00"},
    )
    token = make_credit_token(meter, units="1834.5", purchase=purchase)
    with django_capture_on_commit_callbacks(execute=False):
        rows = token_sms_send(purchase=purchase, tokens=[token])
    assert len(rows) == 1
    row = SmsMessage.objects.get(pk=rows[0].pk)
    assert token.grouped in row.text and "\n" in row.text
    assert (row.encoding, row.segments) == ("gsm7", 1), row.text
