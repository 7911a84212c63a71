"""A meter whose key configuration cannot vend (issue 17) is refused by SMS in every language, before any
payment is asked for."""

import pytest

from tests.factories import make_supply_group
from tests.sms_channel.test_round_trips import SPEAKERS
from vending.models import Meter, Payment, Purchase, SmsMessage


@SPEAKERS
def test_buy_for_a_meter_left_on_the_exhausted_1993_base_date_is_refused_with_no_payment(at, world, who):
    meter = Meter.objects.select_related("supply_group__utility").get(drn=who.drn)
    legacy = make_supply_group(meter.supply_group.utility, base_date=1993)
    Meter.objects.filter(pk=meter.pk).update(supply_group=legacy, base_date=1993)
    reply = at.send(who.phone, f"{who.kw['buy']} {who.drn} {who.amount}")
    assert reply == who.render("sms.error.not_vendable", drn=who.drn)
    assert not Purchase.objects.exists() and not Payment.objects.exists()
    assert not SmsMessage.objects.filter(text__icontains="PIN").exists()


@pytest.mark.parametrize(
    ("lang", "words"), [("en", "cannot be sold now"), ("so", "lama iibin karo"), ("sw", "haiwezi kuuziwa sasa")]
)
def test_the_refusal_says_contact_the_utility(lang, words):
    from vending import i18n

    assert words in i18n.render("sms.error.not_vendable", lang, drn="04123456784")
    assert words in i18n.render("ussd.err.not_vendable", lang)
