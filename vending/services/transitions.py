"""The one place that changes a state (DESIGN.md rule 4).

`transition` locks the row, returns quietly when it is already in the target state, refuses a move
the table does not allow, saves, and writes an audit event, all inside the caller's transaction.
"""

from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction

from vending.models import Payment, Purchase, SmsMessage
from vending.services.audit import audit_record
from vending.states import PAYMENT_TRANSITIONS, PURCHASE_TRANSITIONS, SMS_TRANSITIONS, check_transition

M = TypeVar("M", Purchase, Payment, SmsMessage)

_TABLES: dict[type[models.Model], tuple[str, dict[str, frozenset[str]]]] = {
    Purchase: ("state", PURCHASE_TRANSITIONS),
    Payment: ("state", PAYMENT_TRANSITIONS),
    SmsMessage: ("status", SMS_TRANSITIONS),
}


def _purchase_of(obj: models.Model) -> Purchase | None:
    if isinstance(obj, Purchase):
        return obj
    return getattr(obj, "purchase", None)


def transition(
    obj: M,
    target: str,
    *,
    actor: AbstractBaseUser | None = None,
    actor_label: str = "system",
    reason: str = "",
    fields: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> tuple[M, bool]:
    """Move `obj` to `target`; return the locked, refreshed row and whether anything changed.

    `fields` are other attributes to set in the same write (e.g. a failure reason); they are applied
    only when the state actually changes, so a replay never overwrites the first outcome.
    """
    field_name, table = _TABLES[type(obj)]
    with transaction.atomic():
        locked = type(obj).objects.select_for_update().get(pk=obj.pk)
        current = getattr(locked, field_name)
        if current == target:
            return locked, False
        check_transition(table, current, target)
        setattr(locked, field_name, target)
        for name, value in (fields or {}).items():
            setattr(locked, name, value)
        locked.save()
        audit_record(
            action=f"{type(obj)._meta.model_name}.{target}",
            obj=locked,
            actor=actor,
            actor_label=actor_label,
            purchase=_purchase_of(locked),
            reason=reason,
            before={field_name: current},
            after={field_name: target, **{k: str(v) for k, v in (fields or {}).items()}},
            data=data,
        )
    return locked, True
