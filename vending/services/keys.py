"""Vending-key custody: setting a supply group's key, audited, never echoed."""

from django.contrib.auth.models import User
from django.db import models, transaction
from django.utils import timezone

from vending.models import Meter, SupplyGroup
from vending.models.network import VENDING_KEY_HEX_LENGTH
from vending.services.audit import audit_record
from vending.sts.weakkeys import weak_key_problem


def parse_vending_key_hex(*, key_hex: str, dkga: str) -> bytes:
    """Check a typed key's length for its DKGA; the error never repeats the key."""
    cleaned = key_hex.strip().replace(" ", "").lower()
    expected = VENDING_KEY_HEX_LENGTH[dkga]
    if len(cleaned) != expected or any(c not in "0123456789abcdef" for c in cleaned):
        raise ValueError(f"A DKGA{dkga} vending key is {expected} hexadecimal digits.")
    key = bytes.fromhex(cleaned)
    weak = weak_key_problem(key)
    if weak:
        raise ValueError(f"This key cannot be used: {weak}.")
    return key


def _has_meters(group: SupplyGroup) -> bool:
    return Meter.objects.filter(models.Q(supply_group=group) | models.Q(pending_supply_group=group)).exists()


def supply_group_set_vending_key(
    *, supply_group: SupplyGroup, key: bytes, actor: User | None = None, reason: str = ""
) -> SupplyGroup:
    weak = weak_key_problem(key)
    if weak:  # checked here too: a shell or a future API reaches this without the admin's form
        raise ValueError(f"This key cannot be used: {weak}.")
    with transaction.atomic():
        replacing = supply_group.has_vending_key
        if replacing and _has_meters(supply_group):
            # Tokens already issued under the old key must still decode: a new key goes to a new key
            # revision and the meters move by key change (backoffice.services.approvals).
            raise ValueError(
                f"Supply group {supply_group.sgc} KRN {supply_group.key_revision} has meters: its "
                "vending key is never replaced in place."
            )
        supply_group.set_vending_key(key)
        supply_group.vending_key_set_at = timezone.now()
        supply_group.save()
        audit_record(
            action="supply_group.vending_key_replaced" if replacing else "supply_group.vending_key_set",
            obj=supply_group,
            actor=actor,
            reason=reason,
            data={"sgc": supply_group.sgc, "key_revision": supply_group.key_revision},
        )
    return supply_group
