"""What the USSD menus read about the customer behind a phone, on every session.

Plain SQL rather than the ORM: these run on the dial and menu hops of every USSD session, where building
the ORM query cost two to five times the database's own work (docs/BENCHMARKS.md, USSD).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from vending.models import Customer, CustomerMeter, Meter, Tariff
from vending.selectors.sql import decimal_column


@dataclass(frozen=True)
class SavedMeterRow:
    """One of a customer's saved meters, with what a buyer's pick needs to know about it."""

    drn: str
    alias: str
    label: str
    active: bool
    currency: str
    min_purchase: Decimal
    max_purchase: Decimal


_CUSTOMER_SQL = f"SELECT id, language FROM {Customer._meta.db_table} WHERE phone = %s"  # noqa: S608

_SAVED_METERS_SQL = f"""
SELECT m.drn, s.alias, m.label_name, m.status, t.currency, t.min_purchase, t.max_purchase
  FROM {CustomerMeter._meta.db_table} s
  JOIN {Meter._meta.db_table} m ON m.id = s.meter_id
  JOIN {Tariff._meta.db_table} t ON t.id = m.tariff_id
 WHERE s.customer_id = %s
 ORDER BY s.created_at, s.id
"""  # noqa: S608 - only model table names are formatted in


def customer_by_phone(*, phone: str) -> tuple[int, str] | None:
    """(id, language) of the customer with this normalised phone number, if there is one."""
    with connection.cursor() as cursor:
        cursor.execute(_CUSTOMER_SQL, [phone])
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def saved_meters_of(*, customer_id: int) -> list[SavedMeterRow]:
    """The customer's saved meters in the order they were saved."""
    with connection.cursor() as cursor:
        cursor.execute(_SAVED_METERS_SQL, [customer_id])
        rows = cursor.fetchall()
    return [
        SavedMeterRow(
            drn=drn,
            alias=alias,
            label=label,
            active=status == Meter.Status.ACTIVE,
            currency=currency,
            min_purchase=decimal_column(low, 2),
            max_purchase=decimal_column(high, 2),
        )
        for drn, alias, label, status, currency, low, high in rows
    ]


def customer_of_phone(*, phone: str) -> Customer | None:
    """The customer row of a normalised phone number, if there is one."""
    return Customer.objects.filter(phone=phone).first()


def saved_meters_of_phone(*, phone: str) -> list[CustomerMeter]:
    """The saved meters of the customer behind `phone`, in the order they were saved, meters and tariffs loaded."""
    return list(
        CustomerMeter.objects.filter(customer__phone=phone)
        .select_related("meter", "meter__tariff")
        .order_by("created_at", "pk")
    )
