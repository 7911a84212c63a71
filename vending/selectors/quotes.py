"""The quote for a purchase: reads the tariff and the meter's month so far, then asks vending.tariffs.

The calendar month is the local month (settings.TIME_ZONE) of `now`:
- kWh bought: credit tokens issued to the meter in that month (for block tariffs);
- fixed charge paid: a purchase of the meter created in that month, now paid or further
  (paid, vended, delivered), that took a positive fixed charge;
- debt: the sum of the meter's MeterDebt balances in the tariff's currency.

The tariff, its blocks and all three are read in one SQL statement. It is written
out rather than built with the ORM because a quote is on the path of every USSD and SMS purchase: the
ORM took about 2 ms of CPU to build this one query (with subqueries) on every hop, more than the
database took to answer it (docs/BENCHMARKS.md, USSD). The SQL is plain SQL that SQLite and Postgres
both run, and tests/tariffs/test_purchase_quote.py runs on both.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from vending.models import Meter, MeterDebt, Purchase, Tariff, TariffBlock, Token
from vending.selectors.sql import decimal_column
from vending.states import PurchaseState
from vending.tariffs import MonthToDate, Quote, TariffSpec, quote

# States in which a purchase's money is ours, so its fixed charge counts as paid.
_PAID_OR_FURTHER = (PurchaseState.PAID, PurchaseState.VENDED, PurchaseState.DELIVERED)

# How long a quote the customer saw is honoured when they confirm it (within the same calendar month).
QUOTE_HONOURED_SECONDS = 600


@dataclass(frozen=True)
class ShownQuote:
    """A quote a customer was shown for one meter, and when: what they confirm when they say yes."""

    drn: str
    quote: Quote
    quoted_at: datetime

    def honoured_for(self, *, meter: Meter, amount: Decimal, now: datetime) -> Quote | None:
        """The quote, if it is for this meter and amount, in its currency, recent and of this month."""
        age = (now - self.quoted_at).total_seconds()
        if (
            self.drn != meter.drn
            or self.quote.amount != amount
            or self.quote.currency != meter.tariff.currency
            or not 0 <= age <= QUOTE_HONOURED_SECONDS
            or local_month_bounds(self.quoted_at) != local_month_bounds(now)
        ):
            return None
        return self.quote


def purchase_quote(*, meter: Meter, amount: Decimal, now: datetime) -> Quote:
    """Raises vending.exceptions.AmountOutOfRange with a customer-readable reason."""
    spec, month = _inputs_of(meter=meter, now=now)
    return quote(tariff=spec, amount=amount, month=month)


def purchase_quote_for_drn(*, drn: str, amount: Decimal, now: datetime) -> Quote | None:
    """The quote for the meter numbered `drn`, or None if koronto has no such meter (as purchase_quote)."""
    inputs = _quote_inputs(column="drn", key=drn, now=now)
    if inputs is None:
        return None
    spec, month = inputs
    return quote(tariff=spec, amount=amount, month=month)


def month_to_date(*, meter: Meter, now: datetime) -> MonthToDate:
    return _inputs_of(meter=meter, now=now)[1]


def _inputs_of(*, meter: Meter, now: datetime) -> tuple[TariffSpec, MonthToDate]:
    inputs = _quote_inputs(column="id", key=meter.pk, now=now)
    if inputs is None:
        raise Meter.DoesNotExist(meter.pk)
    return inputs


# Only model table names and a column from the fixed tuple below are formatted in; values are parameters.
_QUOTE_INPUTS_SQL = f"""
SELECT t.currency, t.kind, t.price_per_kwh, t.vat_percent, t.fixed_monthly_charge, t.debt_recovery_percent,
       t.min_purchase, t.max_purchase,
       (SELECT SUM(k.units) FROM {Token._meta.db_table} k
         WHERE k.meter_id = m.id AND k.kind = %s AND k.created_at >= %s AND k.created_at < %s),
       (SELECT SUM(d.balance) FROM {MeterDebt._meta.db_table} d
         WHERE d.meter_id = m.id AND d.currency = t.currency),
       CASE WHEN EXISTS (
         SELECT 1 FROM {Purchase._meta.db_table} p
          WHERE p.meter_id = m.id AND p.state IN (%s, %s, %s) AND p.created_at >= %s AND p.created_at < %s
            AND p.fixed_charge > 0) THEN 1 ELSE 0 END,
       b.up_to_kwh, b.price_per_kwh
  FROM {Meter._meta.db_table} m
  JOIN {Tariff._meta.db_table} t ON t.id = m.tariff_id
  LEFT JOIN {TariffBlock._meta.db_table} b ON b.tariff_id = t.id
 WHERE m.{{column}} = %s
"""  # noqa: S608 - one row per block of the tariff (one row, without a block, for a flat tariff)
_QUOTE_INPUTS_BY = {column: _QUOTE_INPUTS_SQL.format(column=column) for column in ("id", "drn")}


def _quote_inputs(*, column: str, key: Any, now: datetime) -> tuple[TariffSpec, MonthToDate] | None:
    start, end = (connection.ops.adapt_datetimefield_value(bound) for bound in local_month_bounds(now))
    with connection.cursor() as cursor:
        cursor.execute(_QUOTE_INPUTS_BY[column], [Token.Kind.CREDIT, start, end, *_PAID_OR_FURTHER, start, end, key])
        rows = cursor.fetchall()
    if not rows:
        return None
    currency, kind, price, vat, fixed, debt_percent, low, high, kwh, debt, fixed_charge_paid, *_block = rows[0]
    blocks = sorted(  # thresholds in order, the open block (no threshold) last
        (
            (decimal_column(up_to, 2), decimal_column(block_price, 4))
            for *_, up_to, block_price in rows
            if block_price is not None
        ),
        key=lambda block: (block[0] is None, block[0] or Decimal(0)),
    )
    spec = TariffSpec(
        currency=currency,
        kind=kind,
        price_per_kwh=decimal_column(price, 4) if kind == Tariff.Kind.FLAT else None,
        blocks=tuple(blocks) if kind == Tariff.Kind.BLOCKS else (),
        vat_percent=decimal_column(vat, 2),
        fixed_monthly_charge=decimal_column(fixed, 2),
        debt_recovery_percent=decimal_column(debt_percent, 2),
        min_purchase=decimal_column(low, 2),
        max_purchase=decimal_column(high, 2),
    )
    month = MonthToDate(
        kwh_bought=decimal_column(kwh, 1) or Decimal(0),
        fixed_charge_paid=bool(fixed_charge_paid),
        debt_balance=decimal_column(debt, 2) or Decimal(0),
    )
    return spec, month


def local_month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """[first instant of the local calendar month of `now`, first instant of the next month)."""
    local = timezone.localtime(now)
    tz = local.tzinfo
    start = datetime(local.year, local.month, 1, tzinfo=tz)
    next_month = (start + timedelta(days=32)).replace(day=1)
    return start, datetime(next_month.year, next_month.month, 1, tzinfo=tz)
