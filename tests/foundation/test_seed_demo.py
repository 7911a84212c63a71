import pytest
from django.core.management import call_command

from tests.factories import current_base_date
from vending.meter_numbers import clean_drn
from vending.models import Customer, CustomerMeter, Meter, SupplyGroup, Utility
from vending.selectors.vendability import meter_vendability
from vending.sts.tid import base_date_before

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent():
    call_command("seed_demo", "--staff-password", "demo-pass-123")
    counts = [m.objects.count() for m in (Utility, SupplyGroup, Meter, Customer, CustomerMeter)]
    call_command("seed_demo")
    assert [m.objects.count() for m in (Utility, SupplyGroup, Meter, Customer, CustomerMeter)] == counts
    assert counts[0] == 2


def test_seed_demo_has_a_kenyan_and_a_somali_utility_with_valid_meters():
    call_command("seed_demo")
    kenya, somalia = Utility.objects.get(country="KE"), Utility.objects.get(country="SO")
    assert kenya.currency == "KES" and somalia.currency == "USD"
    assert {(g.dkga, g.ea) for g in kenya.supply_groups.all()} == {("02", "07")}
    assert {(g.dkga, g.ea) for g in somalia.supply_groups.all()} == {("04", "11")}
    assert all(g.has_vending_key for g in SupplyGroup.objects.all())
    for meter in Meter.objects.all():
        assert clean_drn(meter.drn) == meter.drn
    # The legacy meter: 1993 → 2014 pending (2014 → 2035 when seeded after base 2014 ran out, Nov 2045).
    today = current_base_date()
    assert Meter.objects.filter(base_date=base_date_before(today), pending_base_date=today).exists()


def test_every_seeded_meter_can_be_sold_a_token_on_the_day_of_seeding():
    call_command("seed_demo")
    answers = {m.drn: meter_vendability(meter=m) for m in Meter.objects.all()}
    assert len(answers) == 7
    assert {drn: f"{v.code}: {v.detail}" for drn, v in answers.items() if not v.ok} == {}
