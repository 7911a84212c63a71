"""Writing the append-only audit trail.

Each event is one `INSERT … RETURNING id` (vending.services.plain_writes) rather than
`AuditEvent.objects.create`: the same row, each value through its field's own conversion (the `at` column's
auto_now_add included), without the ORM building and compiling the statement anew for each of the five events
of a vend (docs/BENCHMARKS.md, issue 18).
AuditEvent.save() only refuses to change a stored event, which an insert never is.
"""

from typing import Any

from django.contrib.auth.models import User
from django.db import models

from vending.models import AuditEvent, Purchase
from vending.services.plain_writes import row_insert


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
    row_insert(event)
    return event
