"""Inserting many rows without building a model instance each (campaign chunks write thousands).

PostgreSQL gets COPY (one statement streaming every row); other databases executemany. Columns that
are the same for every row are given once in `common` and prepared for the database once, so the
per-row values stay plain ints and strings. No signals, no returned ids: for append-only rows whose
ids nobody needs right away.
"""

from collections.abc import Iterable
from typing import Any

from django.db import connection, models


def _concrete_field(model: type[models.Model], name: str) -> models.Field:
    """The model's field `name`, which must be a column of its own table (not a reverse relation)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise ValueError(f"{model._meta.label}.{name} is a reverse relation, not a column")
    return field


def _column(field: models.Field) -> str:
    if field.column is None:
        raise ValueError(f"{field} has no column")
    return field.column


def insert_rows(model: type[models.Model], *, fields: list[str], rows: Iterable[tuple], common: dict[str, Any]) -> int:
    """Insert `rows` (values of `fields`, in order, already database-ready) plus `common`; return the count."""
    opts = model._meta
    constant = [_concrete_field(model, name) for name in common]
    prepared = tuple(f.get_db_prep_save(common[f.name], connection) for f in constant)
    columns = [_column(f) for f in [*(_concrete_field(model, name) for name in fields), *constant]]
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    table = connection.ops.quote_name(opts.db_table)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row + prepared)
                    count += 1
        else:
            values = [row + prepared for row in rows]
            placeholders = ", ".join(["%s"] * len(columns))
            # Names come from the model's own metadata, quoted; every value is a parameter.
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})"  # noqa: S608
            cursor.executemany(sql, values)
            count = len(values)
    return count
