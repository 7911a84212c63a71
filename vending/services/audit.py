"""Writing the append-only audit trail.

Each event is one `INSERT … RETURNING id` written here rather than by `AuditEvent.objects.create`: the same
row, each value through its field's own conversion (the `at` column's auto_now_add included), without the ORM
building and compiling the statement anew for each of the five events of a vend (docs/BENCHMARKS.md, issue 18).
AuditEvent.save() only refuses to change a stored event, which an insert never is.
"""

from typing import Any

from django.contrib.auth.models import User
from django.db import models, transaction

from vending.models import AuditEvent, Purchase

_FIELDS = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]


def _insert(event: AuditEvent) -> None:
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    values = [f.get_db_prep_save(f.pre_save(event, add=True), connection=connection) for f in _FIELDS]
    # Only the model's own table and column names are formatted in; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({', '.join(quote(f.column) for f in _FIELDS)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(_FIELDS))})"
    )
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(f"{sql} RETURNING {quote(AuditEvent._meta.pk.column)}", values)
            event.pk = cursor.fetchone()[0]
        else:  # an SQLite older than 3.35 (tests on some machines)
            cursor.execute(sql, values)
            event.pk = cursor.lastrowid
    event._state.adding, event._state.db = False, connection.alias


def audit_record(
    *,
    action: str,
    obj: models.Model,
    actor: User | None = None,
    actor_label: str = "system",
    purchase: Purchase | None = None,
    reason: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    purchase_id: int | None = None,
) -> AuditEvent:
    """Append one event. `purchase_id` may stand in for `purchase` when only the id is at hand (no query)."""
    if actor is not None and actor_label == "system":
        actor_label = actor.get_username()
    if purchase is None and isinstance(obj, Purchase):
        purchase = obj
    if purchase is not None:
        purchase_id = purchase.pk
    event = AuditEvent(
        action=action,
        object_type=obj._meta.model_name or type(obj).__name__.lower(),
        object_id=str(obj.pk),
        actor=actor,
        actor_label=actor_label[:80],
        purchase_id=purchase_id,
        reason=reason,
        before=before or {},
        after=after or {},
        data=data or {},
    )
    _insert(event)
    return event
