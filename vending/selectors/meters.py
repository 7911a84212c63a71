"""A meter as a purchase needs it, read in plain SQL: on the confirm hop of every USSD purchase, where the
ORM's select_related query cost about five times the database's own work (docs/BENCHMARKS.md, USSD)."""

from typing import TypeVar

from django.db import connection

from vending.models import Meter, Tariff

_M = TypeVar("_M", Meter, Tariff)

_FOR_PURCHASE_SQL = f"""
SELECT m.id, m.drn, m.tariff_id, m.status, m.label_name, t.currency
  FROM {Meter._meta.db_table} m JOIN {Tariff._meta.db_table} t ON t.id = m.tariff_id
 WHERE m.drn = %s
"""  # noqa: S608 - only model table names are formatted in


def meter_for_purchase(*, drn: str) -> Meter | None:
    """The meter numbered `drn` with its tariff, loaded with what purchase_create reads (number, status, name,
    the tariff's currency). Like `.only()`: any other field is read from the database when first used."""
    with connection.cursor() as cursor:
        cursor.execute(_FOR_PURCHASE_SQL, [drn])
        row = cursor.fetchone()
    if row is None:
        return None
    meter_id, drn, tariff_id, status, label_name, currency = row
    meter = _partial(Meter, id=meter_id, drn=drn, tariff_id=tariff_id, status=status, label_name=label_name)
    meter.tariff = _partial(Tariff, id=tariff_id, currency=currency)
    return meter


def meter_by_drn(*, drn: str) -> Meter | None:
    """The meter numbered `drn` with its tariff (every field), or None."""
    return Meter.objects.select_related("tariff").filter(drn=drn).first()


def _partial(model: type[_M], **values: object) -> _M:
    # Model.from_db takes the values in the model's field order and defers every field not given.
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])
