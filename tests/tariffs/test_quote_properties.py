"""Properties of the tariff maths for any tariff, amount and month (hypothesis; no database)."""

from decimal import Decimal
from fractions import Fraction

from hypothesis import assume, given
from hypothesis import strategies as st

from vending.exceptions import AmountOutOfRange
from vending.tariffs import MINOR_UNITS, MonthToDate, Quote, TariffSpec, amount_needed_for_kwh, quote


def money(currency: str, low: str, high: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=MINOR_UNITS[currency])


prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("20000"), places=4)
percents = st.decimals(min_value=Decimal("0"), max_value=Decimal("30"), places=2)


@st.composite
def tariffs(draw) -> TariffSpec:
    currency = draw(st.sampled_from(sorted(MINOR_UNITS)))
    common = {
        "currency": currency,
        "vat_percent": draw(percents),
        "fixed_monthly_charge": draw(money(currency, "0", "50")),
        "debt_recovery_percent": draw(st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)),
        "min_purchase": Decimal(1).scaleb(-MINOR_UNITS[currency]),
        "max_purchase": Decimal("1000000"),
    }
    if draw(st.booleans()):
        return TariffSpec(kind="flat", price_per_kwh=draw(prices), **common)
    thresholds = sorted(
        draw(st.sets(st.decimals(min_value=Decimal("0.5"), max_value=Decimal("500"), places=2), min_size=1, max_size=3))
    )
    blocks = (*((up_to, draw(prices)) for up_to in thresholds), (None, draw(prices)))
    return TariffSpec(kind="blocks", blocks=blocks, **common)


@st.composite
def months(draw) -> MonthToDate:
    return MonthToDate(
        kwh_bought=draw(st.decimals(min_value=Decimal("0"), max_value=Decimal("700"), places=1)),
        fixed_charge_paid=draw(st.booleans()),
        debt_balance=draw(st.decimals(min_value=Decimal("0"), max_value=Decimal("1000"), places=2)),
    )


def amounts_for(tariff: TariffSpec) -> st.SearchStrategy[Decimal]:
    return money(tariff.currency, str(tariff.min_purchase), "100000")


def quote_or_none(tariff, amount, month):
    try:
        return quote(tariff=tariff, amount=amount, month=month)
    except AmountOutOfRange:
        return None  # only "does not cover the fixed charge / debt" is possible with these inputs


def exact_kwh(tariff: TariffSpec, start_kwh: Decimal, money_left: Decimal) -> Fraction:
    """Reference: the kWh `money_left` buys with no rounding at all."""
    left, kwh, lower = Fraction(money_left), Fraction(0), Fraction(0)
    for up_to, price in tariff.price_steps():
        start = max(Fraction(start_kwh), lower)
        if up_to is not None and start >= up_to:
            lower = Fraction(up_to)
            continue
        if up_to is not None and left >= (Fraction(up_to) - start) * Fraction(price):
            left -= (Fraction(up_to) - start) * Fraction(price)
            kwh += Fraction(up_to) - start
            lower = Fraction(up_to)
            continue
        return kwh + left / Fraction(price)
    return kwh


@given(data=st.data(), tariff=tariffs(), month=months())
def test_parts_add_up_exactly_to_the_amount(data, tariff, month):
    amount = data.draw(amounts_for(tariff))
    q = quote_or_none(tariff, amount, month)
    assume(q is not None)
    assert q.fixed_charge + q.debt_recovery + q.vat + q.energy_amount == amount
    assert sum(use.cost for use in q.blocks_used) == q.energy_amount
    assert sum(use.kwh for use in q.blocks_used) == q.kwh
    assert min(q.fixed_charge, q.debt_recovery, q.vat) >= 0 and q.energy_amount > 0
    assert q.debt_recovery <= month.debt_balance


@given(data=st.data(), tariff=tariffs(), month=months())
def test_kwh_is_never_rounded_down(data, tariff, month):
    q = quote_or_none(tariff, data.draw(amounts_for(tariff)), month)
    assume(q is not None)
    reference = exact_kwh(tariff, month.kwh_bought, q.energy_amount)
    assert q.units == q.kwh * 10 and q.units >= 1
    assert Fraction(q.kwh) >= reference
    if tariff.kind == "flat":
        assert Fraction(q.kwh) - Fraction(1, 10) < reference  # and never more than one step up


@given(data=st.data(), tariff=tariffs(), month=months())
def test_charges_never_exceed_their_exact_value(data, tariff, month):
    q = quote_or_none(tariff, data.draw(amounts_for(tariff)), month)
    assume(q is not None)
    vat_share = Fraction(tariff.vat_percent) / (100 + Fraction(tariff.vat_percent))
    assert Fraction(q.vat) <= Fraction(q.vat + q.energy_amount) * vat_share
    rest = q.amount - q.fixed_charge
    assert Fraction(q.debt_recovery) <= Fraction(rest) * Fraction(tariff.debt_recovery_percent) / 100


@given(data=st.data(), tariff=tariffs(), month=months())
def test_more_money_never_buys_fewer_kwh(data, tariff, month):
    first, second = data.draw(amounts_for(tariff)), data.draw(amounts_for(tariff))
    low, high = min(first, second), max(first, second)
    q_high = quote_or_none(tariff, high, month)
    assume(q_high is not None)
    q_low = quote_or_none(tariff, low, month)
    assert (q_low.units if q_low else 0) <= q_high.units
    step = Decimal(1).scaleb(-MINOR_UNITS[tariff.currency])
    q_next = quote_or_none(tariff, high + step, month)
    assert q_next is not None and q_next.units >= q_high.units


@given(tariff=tariffs(), month=months(), kwh=st.decimals(min_value=Decimal("0.1"), max_value=Decimal("300"), places=1))
def test_amount_needed_for_kwh_is_the_smallest_that_buys_it(tariff, month, kwh):
    try:
        needed = amount_needed_for_kwh(tariff=tariff, kwh=kwh, month=month)
    except AmountOutOfRange:
        assume(False)
    assert quote(tariff=tariff, amount=needed, month=month).kwh >= kwh
    below = needed - Decimal(1).scaleb(-MINOR_UNITS[tariff.currency])
    if below >= tariff.min_purchase:
        q_below = quote_or_none(tariff, below, month)
        assert q_below is None or q_below.kwh < kwh


@given(data=st.data(), tariff=tariffs(), month=months())
def test_to_dict_round_trips(data, tariff, month):
    q = quote_or_none(tariff, data.draw(amounts_for(tariff)), month)
    assume(q is not None)
    assert Quote.from_dict(q.to_dict()) == q
