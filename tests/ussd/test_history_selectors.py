"""vending.selectors.history: what a phone bought (shared by the USSD and SMS channels)."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import make_meter, make_purchase
from vending.models import Purchase, Token
from vending.selectors.history import last_tokens_for_phone, recent_purchases_for_phone

PHONE = "+254711000111"
_tids = itertools.count(5000)


def _bought(meter, *, phone=PHONE, day=1, kind=Token.Kind.CREDIT):
    purchase = make_purchase(meter, payer_phone=phone, state="delivered")
    Purchase.objects.filter(pk=purchase.pk).update(created_at=datetime(2026, 11, day, tzinfo=UTC))
    token = Token.objects.create(
        purchase=purchase,
        meter=meter,
        kind=kind,
        token_class=0,
        subclass=0,
        tid=next(_tids),
        units="10.0",
        digits=f"{day:020d}",
    )
    Token.objects.filter(pk=token.pk).update(created_at=datetime(2026, 11, day, tzinfo=UTC) + timedelta(minutes=1))
    return token


@pytest.mark.django_db
def test_last_tokens_are_the_newest_credit_tokens_of_that_phone_for_that_meter():
    meter, other_meter = make_meter(), make_meter()
    mine = [_bought(meter, day=day) for day in (3, 1, 4, 2)]
    _bought(meter, phone="+254722000222", day=9)  # another phone
    _bought(other_meter, day=8)  # another meter
    _bought(meter, day=7, kind=Token.Kind.ENGINEERING)  # not a credit token
    tokens = last_tokens_for_phone(phone=PHONE, meter=meter)
    assert [t.pk for t in tokens] == [mine[2].pk, mine[0].pk, mine[3].pk]
    assert [t.pk for t in last_tokens_for_phone(phone=PHONE, meter=meter, limit=1)] == [mine[2].pk]
    assert last_tokens_for_phone(phone="+254799999999", meter=meter) == []


@pytest.mark.django_db
def test_recent_purchases_are_the_newest_paid_from_that_phone():
    meter = make_meter()
    mine = [_bought(meter, day=day).purchase for day in range(1, 8)]
    _bought(meter, phone="+254722000222", day=20)
    recent = recent_purchases_for_phone(phone=PHONE)
    assert [p.pk for p in recent] == [p.pk for p in mine[::-1][:5]]
    assert [p.pk for p in recent_purchases_for_phone(phone=PHONE, limit=2)] == [mine[6].pk, mine[5].pk]
