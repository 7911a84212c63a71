"""The quote for a purchase: reads the tariff and the meter's month so far, then asks vending.tariffs.

The calendar month is the local month (settings.TIME_ZONE) of `now`:
- kWh bought: credit tokens issued to the meter in that month (for block tariffs);
- fixed charge paid: a purchase of the meter created in that month, now paid or further
  (paid, vended, delivered), whose confirmed quote carried a positive fixed charge;
- debt: the sum of the meter's MeterDebt balances in the tariff's currency.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from vending.models import Meter, MeterDebt, Purchase, Tariff, Token
from vending.states import PurchaseState
from vending.tariffs import MonthToDate, Quote, TariffSpec, quote

# States in which a purchase's money is ours, so its fixed charge counts as paid.
_PAID_OR_FURTHER = (PurchaseState.PAID, PurchaseState.VENDED, PurchaseState.DELIVERED)


def purchase_quote(*, meter: Meter, amount: Decimal, now: datetime) -> Quote:
    """Raises vending.exceptions.AmountOutOfRange with a customer-readable reason."""
    spec = tariff_spec_for(meter.tariff)
    return quote(tariff=spec, amount=amount, month=month_to_date(meter=meter, currency=spec.currency, now=now))


def tariff_spec_for(tariff: Tariff) -> TariffSpec:
    blocks: tuple[tuple[Decimal | None, Decimal], ...] = ()
    if tariff.kind == Tariff.Kind.BLOCKS:
        rows = sorted(tariff.blocks.all(), key=lambda b: (b.up_to_kwh is None, b.up_to_kwh or Decimal(0)))
        blocks = tuple((row.up_to_kwh, row.price_per_kwh) for row in rows)
    return TariffSpec(
        currency=tariff.currency,
        kind=tariff.kind,
        price_per_kwh=tariff.price_per_kwh if tariff.kind == Tariff.Kind.FLAT else None,
        blocks=blocks,
        vat_percent=tariff.vat_percent,
        fixed_monthly_charge=tariff.fixed_monthly_charge,
        debt_recovery_percent=tariff.debt_recovery_percent,
        min_purchase=tariff.min_purchase,
        max_purchase=tariff.max_purchase,
    )


def month_to_date(*, meter: Meter, currency: str, now: datetime) -> MonthToDate:
    start, end = local_month_bounds(now)
    kwh = Token.objects.filter(
        meter=meter, kind=Token.Kind.CREDIT, created_at__gte=start, created_at__lt=end
    ).aggregate(total=Sum("units"))["total"]
    paid_quotes = Purchase.objects.filter(
        meter=meter, state__in=_PAID_OR_FURTHER, created_at__gte=start, created_at__lt=end
    ).values_list("quote", flat=True)
    debt = MeterDebt.objects.filter(meter=meter, currency=currency).aggregate(total=Sum("balance"))["total"]
    return MonthToDate(
        kwh_bought=kwh or Decimal(0),
        fixed_charge_paid=any(Decimal(str(q.get("fixed_charge") or "0")) > 0 for q in paid_quotes if q),
        debt_balance=debt or Decimal(0),
    )


def local_month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """[first instant of the local calendar month of `now`, first instant of the next month)."""
    local = timezone.localtime(now)
    tz = local.tzinfo
    start = datetime(local.year, local.month, 1, tzinfo=tz)
    next_month = (start + timedelta(days=32)).replace(day=1)
    return start, datetime(next_month.year, next_month.month, 1, tzinfo=tz)
