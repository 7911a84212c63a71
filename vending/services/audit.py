"""Writing the append-only audit trail."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from vending.models import AuditEvent, Purchase


def audit_record(
    *,
    action: str,
    obj: models.Model,
    actor: AbstractBaseUser | None = None,
    actor_label: str = "system",
    purchase: Purchase | None = None,
    reason: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    if actor is not None and actor_label == "system":
        actor_label = actor.get_username()
    if purchase is None and isinstance(obj, Purchase):
        purchase = obj
    return AuditEvent.objects.create(
        action=action,
        object_type=obj._meta.model_name,
        object_id=str(obj.pk),
        actor=actor,
        actor_label=actor_label[:80],
        purchase=purchase,
        reason=reason,
        before=before or {},
        after=after or {},
        data=data or {},
    )
