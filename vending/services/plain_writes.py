"""A new row's INSERT and a saved row's UPDATE written as one plain statement each, as `Model.save` writes them
(and a row's `QuerySet.update`, as it writes it).

On the vend path the ORM built and compiled each of these statements anew (the token, the SMS rows, the meter's
TID memory, the state moves, the audit events; on the USSD confirm hop the purchase and its payment), costing
more than the statements themselves (docs/BENCHMARKS.md, issue 18). Here each value goes through its field's own
conversion (`pre_save`: auto_now / auto_now_add as save() does them; `get_db_prep_save`), the related rows are
checked as save() checks them, and the errors are save()'s.
Only for models without save() logic or signal receivers: this skips both.
"""

from typing import Any

from django.db import DatabaseError, models, transaction


def row_insert(row: models.Model) -> None:
    """INSERT `row` (not saved yet, no primary key of its own) as `row.save()` would; sets its id."""
    meta = type(row)._meta
    # save()'s own check of the related rows (private, so not in the stubs)
    row._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(row, add=True), connection=connection) for f in fields]
    # Only the model's own table and column names are formatted in; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(f"{sql} RETURNING {quote(meta.pk.column)}", values)
            row.pk = cursor.fetchone()[0]
        else:  # an SQLite older than 3.35 (tests on some machines)
            cursor.execute(sql, values)
            row.pk = cursor.lastrowid
    row._state.adding, row._state.db = False, connection.alias


def _column(meta: Any, name: str) -> models.Field:
    """The model field `name`, which must be a column of the model's own table (as update_fields requires)."""
    field = meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def _assignments(pairs: list[tuple[models.Field, Any]], connection: Any) -> tuple[str, list[Any]]:
    """The `SET` list of an UPDATE (`"col" = %s, …`) and its parameters, each value through its field's own
    conversion for saving."""
    columns, params = [], []
    for field, value in pairs:
        columns.append(f"{connection.ops.quote_name(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection=connection))
    return ", ".join(columns), params


def columns_update(row: models.Model, names: list[str]) -> None:
    """Write the fields `names` of the saved `row` as `row.save(update_fields=names)` would. The values are plain
    ones: no F() expression comes here."""
    meta = type(row)._meta
    fields = [_column(meta, name) for name in names]
    row._prepare_related_fields_for_save(operation_name="save", fields=fields)  # type: ignore[attr-defined]
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    # pre_save: an auto_now column takes the time now, as save() does; any other field its attribute
    columns, values = _assignments([(field, field.pre_save(row, add=False)) for field in fields], connection)
    # Only the model's own table and column names are formatted in; every value is a parameter.
    sql = f"UPDATE {quote(meta.db_table)} SET {columns} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, row.pk])
        if cursor.rowcount != 1:  # as save(update_fields=…) says when the row is gone
            raise DatabaseError("Save with update_fields did not affect any rows.")


def rows_update(model: type[models.Model], pk: Any, where: dict[str, Any] | None = None, **values: Any) -> int:
    """`model.objects.filter(pk=pk, **where).update(**values)` as one plain statement: the number of rows changed.

    As `QuerySet.update`: no save(), no auto_now refresh; a related row stands for its id. In `where` a None is
    `IS NULL` (the `__isnull=True` of the filter), any other value an equality."""
    meta = model._meta
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    columns, params = _assignments(
        [
            (_column(meta, name), value.pk if isinstance(value, models.Model) else value)
            for name, value in values.items()
        ],
        connection,
    )
    conditions = [f"{quote(meta.pk.column)} = %s"]
    params.append(meta.pk.get_db_prep_value(pk, connection=connection))
    for name, value in (where or {}).items():
        field = _column(meta, name)
        if value is None:
            conditions.append(f"{quote(field.column)} IS NULL")
        else:
            conditions.append(f"{quote(field.column)} = %s")
            params.append(field.get_db_prep_value(value, connection=connection))
    # Only the model's own table and column names are formatted in; every value is a parameter.
    sql = f"UPDATE {quote(meta.db_table)} SET {columns} WHERE {' AND '.join(conditions)}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
