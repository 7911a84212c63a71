"""purchase_quote against the database: month-to-date kWh, the fixed charge and the debt."""

from datetime import UTC, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from tests.factories import (
    make_block_tariff,
    make_credit_token,
    make_flat_tariff,
    make_meter,
    make_purchase,
    make_supply_group,
    make_utility,
)
from vending.exceptions import AmountOutOfRange
from vending.models import MeterDebt, Purchase
from vending.selectors.quotes import local_month_bounds, month_to_date, purchase_quote
from vending.tariffs import BlockUse, Quote

pytestmark = [pytest.mark.django_db, pytest.mark.dated]

NAIROBI = ZoneInfo("Africa/Nairobi")


@pytest.fixture(autouse=True)
def _nairobi_time(settings):
    settings.TIME_ZONE = "Africa/Nairobi"


def kenya_meter(**tariff_fields):
    utility = make_utility("KE", "KES")
    tariff = make_block_tariff(
        utility,
        [("100", "16.54"), ("30", "12.23"), (None, "19.08")],  # rows out of order on purpose
        vat_percent=D("16"),
        min_purchase=D("20"),
        max_purchase=D("35000"),
        **tariff_fields,
    )
    return make_meter(supply_group=make_supply_group(utility), tariff=tariff)


def somali_meter():
    utility = make_utility("SO", "USD")
    tariff = make_flat_tariff(
        utility,
        price="0.95",
        vat_percent=D("5"),
        fixed_monthly_charge=D("2.00"),
        debt_recovery_percent=D("10"),
        min_purchase=D("1"),
        max_purchase=D("500"),
    )
    return make_meter(supply_group=make_supply_group(utility), tariff=tariff)


def at(year, month, day, hour=12, minute=0, tz=NAIROBI):
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def test_block_walk_starts_at_this_months_credit_tokens():
    meter = kenya_meter()
    other = kenya_meter()
    make_credit_token(meter, units="12.5", created_at=at(2026, 3, 2))
    make_credit_token(meter, units="7.5", created_at=at(2026, 3, 10))
    make_credit_token(meter, units="50", created_at=at(2026, 2, 27))  # last month
    make_credit_token(meter, units="40", created_at=at(2026, 3, 5), kind="engineering")  # not energy bought
    make_credit_token(other, units="100", created_at=at(2026, 3, 5))  # another meter
    # 20 kWh so far. KES 500: VAT 500 x 16/116 = 68.9655… → 68.96; energy 431.04; 10 kWh left in block 1 cost
    # 122.30; 308.74 / 16.54 = 18.6662… → 28.6662… → 28.7 kWh.
    q = purchase_quote(meter=meter, amount=D("500"), now=at(2026, 3, 15))
    assert q.blocks_used[0] == BlockUse(D("10.0"), D("12.2300"), D("122.30"))
    assert (q.vat, q.energy_amount, q.kwh) == (D("68.96"), D("431.04"), D("28.7"))


def test_month_boundary_is_the_local_nairobi_midnight():
    meter = kenya_meter()
    # 00:30 on 1 March in Nairobi is 21:30 UTC on 28 February.
    now = datetime(2026, 2, 28, 21, 30, tzinfo=UTC)
    make_credit_token(meter, units="3.0", created_at=datetime(2026, 2, 28, 21, 5, tzinfo=UTC))  # 00:05 1 Mar local
    make_credit_token(meter, units="5.0", created_at=datetime(2026, 2, 28, 20, 55, tzinfo=UTC))  # 23:55 28 Feb local
    make_credit_token(meter, units="7.0", created_at=datetime(2026, 3, 31, 21, 0, tzinfo=UTC))  # 00:00 1 Apr local
    assert local_month_bounds(now) == (at(2026, 3, 1, 0), at(2026, 4, 1, 0))
    assert month_to_date(meter=meter, now=now).kwh_bought == D("3.0")


def test_december_rolls_into_january():
    assert local_month_bounds(at(2026, 12, 31, 23, 59)) == (at(2026, 12, 1, 0), at(2027, 1, 1, 0))


def test_first_purchase_of_the_month_pays_the_fixed_charge():
    meter = somali_meter()
    # $10: fixed 2.00; no debt is owed, so no recovery; VAT 8 x 5/105 = 0.38095… → 0.38;
    # energy 7.62; 7.62 / 0.95 = 8.0210… → 8.1 kWh.
    q = purchase_quote(meter=meter, amount=D("10"), now=at(2026, 3, 15))
    assert (q.fixed_charge, q.debt_recovery, q.vat, q.energy_amount, q.kwh) == (
        D("2.00"),
        D("0.00"),
        D("0.38"),
        D("7.62"),
        D("8.1"),
    )


def _purchase(meter, *, state, fixed_charge, created_at):
    purchase = make_purchase(
        meter, amount="10", wallet="evcplus", state=state, quote={"fixed_charge": fixed_charge, "amount": "10.00"}
    )
    Purchase.objects.filter(pk=purchase.pk).update(created_at=created_at)


@pytest.mark.parametrize("state", ["paid", "vended", "delivered"])
def test_fixed_charge_is_skipped_after_a_paid_purchase_that_took_it(state):
    meter = somali_meter()
    _purchase(meter, state=state, fixed_charge="2.00", created_at=at(2026, 3, 1, 8))
    q = purchase_quote(meter=meter, amount=D("10"), now=at(2026, 3, 15))
    assert q.fixed_charge == 0
    assert q.energy_amount + q.vat == D("10.00")


def test_fixed_charge_still_due_when_no_paid_purchase_this_month_took_it():
    meter = somali_meter()
    _purchase(meter, state="payment_pending", fixed_charge="2.00", created_at=at(2026, 3, 2))  # not paid yet
    _purchase(meter, state="payment_failed", fixed_charge="2.00", created_at=at(2026, 3, 3))
    _purchase(meter, state="vended", fixed_charge="2.00", created_at=at(2026, 2, 28, 23, 59))  # last month
    _purchase(meter, state="delivered", fixed_charge="0.00", created_at=at(2026, 3, 4))  # took no charge
    _purchase(make_meter(tariff=meter.tariff), state="vended", fixed_charge="2.00", created_at=at(2026, 3, 4))
    assert purchase_quote(meter=meter, amount=D("10"), now=at(2026, 3, 15)).fixed_charge == D("2.00")


def test_debt_is_the_sum_of_the_meters_balances_in_the_tariff_currency():
    meter = somali_meter()
    for balance in ("0.30", "0.20"):
        MeterDebt.objects.create(
            meter=meter, description="Arrears", currency="USD", original_amount=D("20"), balance=D(balance)
        )
    MeterDebt.objects.create(
        meter=meter, description="Old KES bill", currency="KES", original_amount=D("900"), balance=D("900")
    )
    MeterDebt.objects.create(
        meter=make_meter(tariff=meter.tariff),
        description="Neighbour",
        currency="USD",
        original_amount=D("100"),
        balance=D("100"),
    )
    # $10: fixed 2.00 → 8.00; 10 % is 0.80 but only 0.50 is owed → 0.50.
    q = purchase_quote(meter=meter, amount=D("10"), now=at(2026, 3, 15))
    assert q.debt_recovery == D("0.50")


def test_quote_survives_the_purchase_json_field():
    meter = kenya_meter(fixed_monthly_charge=D("22"))
    q = purchase_quote(meter=meter, amount=D("500"), now=at(2026, 3, 15))
    purchase = make_purchase(meter, amount="500", quote=q.to_dict())
    purchase.refresh_from_db()
    assert Quote.from_dict(purchase.quote) == q
    assert purchase.quote["fixed_charge"] == "22.00"


def test_out_of_range_amount_is_refused_with_the_range():
    with pytest.raises(AmountOutOfRange, match=r"between KES 20 and KES 35,000\."):
        purchase_quote(meter=kenya_meter(), amount=D("10"), now=at(2026, 3, 15))
