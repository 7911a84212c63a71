"""After 2045-11-24 20:15 a base-2014 meter's TIDs have run out (24 bits of minutes): a clear refusal
before any money moves, never a crash. A meter with its key change to base 2035 pending may still buy."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.factories import make_customer, make_flat_tariff, make_meter, make_supply_group, make_utility
from vending.exceptions import MeterNotVendable
from vending.models import Meter, Purchase
from vending.services.customers import customer_save_meter
from vending.services.purchases import purchase_create

pytestmark = pytest.mark.django_db
AFTER = datetime(2045, 11, 25, 10, 0, tzinfo=ZoneInfo("Africa/Nairobi"))


def _meter(base_date: int) -> Meter:
    group = make_supply_group(make_utility("KE", "KES"), base_date=base_date)
    return make_meter(supply_group=group, tariff=make_flat_tariff(group.utility, price="20"))


def _buy(meter: Meter, now: datetime, key: str) -> Purchase:
    return purchase_create(
        channel="ussd",
        meter=meter,
        payer_phone="+254711000111",
        wallet="mpesa",
        amount=Decimal("100"),
        idempotency_key=key,
        now=now,
    )


def test_a_base_2014_meter_is_refused_after_its_last_tid_with_no_purchase_made():
    meter = _meter(2014)
    # The one vendability check every channel asks before any payment (vending/selectors/vendability.py).
    with pytest.raises(MeterNotVendable, match="base date 2014 runs out of token IDs"):
        _buy(meter, AFTER, "after")
    assert not Purchase.objects.exists()


def test_the_last_minute_still_sells_and_the_next_one_does_not():
    meter = _meter(2014)
    # TIDs count the wall-clock minutes of the time given (vending/sts/tid.py); 0xFFFFFF is 2045-11-24 20:15.
    assert _buy(meter, datetime(2045, 11, 24, 20, 15, 59, tzinfo=UTC), "last").pk
    with pytest.raises(MeterNotVendable):
        _buy(meter, datetime(2045, 11, 24, 20, 16, tzinfo=UTC), "next")


def test_a_meter_with_its_key_change_to_2035_pending_may_buy():
    meter = _meter(2014)
    new = make_supply_group(meter.supply_group.utility, base_date=2035, sgc=meter.supply_group.sgc, key_revision=2)
    Meter.objects.filter(pk=meter.pk).update(pending_supply_group=new, pending_key_revision=2, pending_base_date=2035)
    meter.refresh_from_db()
    assert _buy(meter, AFTER, "rollover").state == "created"


def test_ussd_shows_the_refusal_in_the_callers_words(client, settings):
    settings.USSD_SERVICE_CODES = ["*384*44135#"]
    meter = _meter(2014)
    customer_save_meter(customer=make_customer("+254711000111", "en"), meter=meter, alias="Home")
    url = f"/hooks/at/ussd/{settings.WEBHOOK_SECRET}/"
    form = {"sessionId": "ATUid_2045", "phoneNumber": "+254711000111", "serviceCode": "*384*44135#", "text": ""}
    replies = []
    with time_machine.travel(AFTER, tick=True):
        for text in ["", "1", "1*1", "1*1*100", "1*1*100*1", "1*1*100*1*1"]:
            response = client.post(url, {**form, "text": text})
            assert response.status_code == 200
            replies.append(response.content.decode())
            if replies[-1].startswith("END"):
                break
    assert replies[-1] == "END This meter cannot be sold now. Contact the utility.", replies
    assert not Purchase.objects.exists()
