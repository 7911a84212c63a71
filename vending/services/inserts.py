"""Writing a new row with one plain `INSERT … RETURNING id`, as `Model.objects.create` would write it.

The hot writes (the audit trail, the purchase and its payment on the USSD confirm hop) go through here rather than
through the ORM: the same columns and values, each value through its field's own conversion (`pre_save` with
add=True, so auto_now and auto_now_add are set as save() sets them), the same errors (Django's cursor raises its own
IntegrityError), without the ORM building and compiling the statement anew for every row (docs/BENCHMARKS.md,
issue 18). Only for models whose save() adds nothing to an insert and that no signal receiver watches: the
statement is cached per model, so a later field is picked up only on restart, as any model change is.
"""

from functools import cache

from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper


@cache
def _statement(model: type[models.Model], vendor: str, returning: bool) -> tuple[list[models.Field], str]:
    # `vendor` in the key: the tests run one database at a time, but a cached statement must fit its database.
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    # Only the model's own table and column names are formatted in; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if returning:
        sql += f" RETURNING {quote(model._meta.pk.column)}"
    return fields, sql


def insert_row(row: models.Model) -> None:
    """Insert the unsaved `row` in the current database transaction (or autocommit) and give it its new pk."""
    connection: BaseDatabaseWrapper = transaction.get_connection()
    returning = connection.features.can_return_columns_from_insert
    fields, sql = _statement(type(row), connection.vendor, returning)
    values = [f.get_db_prep_save(f.pre_save(row, add=True), connection=connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        # lastrowid: an SQLite older than 3.35 (tests on some machines)
        row.pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    row._state.adding, row._state.db = False, connection.alias
