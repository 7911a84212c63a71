"""The one place that changes a state (docs/DESIGN.md rule 4).

`transition` locks the row, returns quietly when it is already in the target state, refuses a move
the table does not allow, saves, and writes an audit event, all inside the caller's transaction.

The save is one `UPDATE … SET <the changed columns> WHERE pk = …` (vending.services.plain_writes) rather than
`Model.save(update_fields=…)`: the same statement and the same values (each field's own conversion), without
the ORM building and compiling it anew on every move, which cost three times the statement itself on the vend
path (docs/BENCHMARKS.md, issue 18). None of these models has save() logic or signal receivers to skip. The row
lock is the ORM's own `select_for_update().get(pk=…)` statement, compiled once (`CompiledRead`).
"""

from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.db import models, transaction

from vending.models import Payment, Purchase, SmsMessage
from vending.services.audit import audit_record
from vending.services.compiled_reads import CompiledRead
from vending.services.plain_writes import columns_update
from vending.states import PAYMENT_TRANSITIONS, PURCHASE_TRANSITIONS, SMS_TRANSITIONS, check_transition

M = TypeVar("M", Purchase, Payment, SmsMessage)

_TABLES: dict[type[models.Model], tuple[str, dict[str, frozenset[str]]]] = {
    Purchase: ("state", PURCHASE_TRANSITIONS),
    Payment: ("state", PAYMENT_TRANSITIONS),
    SmsMessage: ("status", SMS_TRANSITIONS),
}
# Each model's row locked by its id: SELECT … FOR UPDATE, compiled once (vending.services.compiled_reads).
_LOCKED: dict[type[models.Model], CompiledRead] = {
    model: CompiledRead(model, lambda pk, model=model: model.objects.select_for_update().filter(pk=pk))
    for model in _TABLES
}
# `auto_now` columns are only refreshed by save() when named in update_fields.
_AUTO_NOW: dict[type[models.Model], tuple[str, ...]] = {
    model: tuple(f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)) for model in _TABLES
}


def _purchase_id_of(obj: models.Model) -> int | None:
    if isinstance(obj, Purchase):
        return obj.pk
    return getattr(obj, "purchase_id", None)  # the id, not the related row: no extra query


def transition(
    obj: M,
    target: str,
    *,
    actor: User | None = None,
    actor_label: str = "system",
    reason: str = "",
    fields: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    locked: bool = False,
) -> tuple[M, bool]:
    """Move `obj` to `target`; return the locked, refreshed row and whether anything changed.

    `fields` are other attributes to set in the same write (e.g. a failure reason); they are applied
    only when the state actually changes, so a replay never overwrites the first outcome.
    `locked=True` says the caller already selected `obj` FOR UPDATE in the current transaction, so the
    row is used as it is instead of being read (and locked) again.
    """
    field_name, table = _TABLES[type(obj)]
    if locked and not transaction.get_connection().in_atomic_block:
        raise RuntimeError("transition(locked=True) outside the transaction that locked the row")
    # No savepoint: nothing below needs a partial rollback. A refused move raises only after the block,
    # so it never dooms the caller's transaction; a database error dooms it as it would anyway.
    with transaction.atomic(savepoint=False):
        row = obj if locked else _LOCKED[type(obj)].get(obj.pk)
        current = getattr(row, field_name)
        if current == target:
            return row, False
        allowed = target in table.get(current, frozenset())
        if allowed:
            setattr(row, field_name, target)
            for name, value in (fields or {}).items():
                setattr(row, name, value)
            columns_update(row, [field_name, *(fields or {}), *_AUTO_NOW[type(obj)]])
            audit_record(
                action=f"{type(obj)._meta.model_name}.{target}",
                obj=row,
                actor=actor,
                actor_label=actor_label,
                purchase_id=_purchase_id_of(row),
                reason=reason,
                before={field_name: current},
                after={field_name: target, **{k: str(v) for k, v in (fields or {}).items()}},
                data=data,
            )
    if not allowed:
        check_transition(table, current, target)  # raises InvalidTransition with the table's wording
    return row, True
