"""The virtual meter behind each real one: build its STS configuration, load/save it encrypted, type tokens in.

The stored state is what the physical meter holds now (its key, credit register, TID memory). The
pipeline checks new tokens on a throw-away copy, so a customer (or the demo) can still type them in
later with `meter_enter`.
"""

import json

from django.db import transaction

from vending.crypto import decrypt_secret, encrypt_secret
from vending.models import Meter, SupplyGroup, VirtualMeterState
from vending.sts import EntryResult, MeterConfig, VirtualMeter


def _context(meter: Meter) -> str:
    return f"virtual-meter:{meter.pk}:{meter.drn}"


def meter_config(
    *,
    meter: Meter,
    supply_group: SupplyGroup | None = None,
    tariff_index: int | None = None,
    key_revision: int | None = None,
    base_date: int | None = None,
) -> MeterConfig:
    """The decoder configuration of `meter` (or of the meter after a key change, given the new values)."""
    group = supply_group or meter.supply_group
    return MeterConfig(
        pan=meter.pan,
        sgc=group.sgc,
        ti=meter.tariff_index if tariff_index is None else tariff_index,
        krn=meter.key_revision if key_revision is None else key_revision,
        kt=meter.key_type,
        ea=group.ea,
        dkga=group.dkga,
        base_date=meter.base_date if base_date is None else base_date,
        ken=group.ken,
        vending_key=group.vending_key(),
    )


def pending_meter_config(*, meter: Meter) -> MeterConfig:
    """The configuration the meter moves to with its pending key change."""
    group = meter.pending_supply_group or meter.supply_group
    return meter_config(
        meter=meter,
        supply_group=group,
        tariff_index=meter.pending_tariff_index,
        key_revision=meter.pending_key_revision or group.key_revision,
        base_date=meter.pending_base_date,
    )


def virtual_meter_load(*, meter: Meter, for_update: bool = False) -> VirtualMeter:
    """The saved virtual meter, or a fresh one in the meter's current configuration (saved at once)."""
    rows = VirtualMeterState.objects.filter(meter=meter)
    if for_update:
        rows = rows.select_for_update()
    row = rows.first()
    if row is None:
        virtual = VirtualMeter(meter_config(meter=meter))
        virtual_meter_save(meter=meter, virtual=virtual)
        return virtual
    state = json.loads(decrypt_secret(bytes(row.state_encrypted), context=_context(meter)))
    return VirtualMeter.from_dict(state)


def virtual_meter_save(*, meter: Meter, virtual: VirtualMeter) -> None:
    blob = encrypt_secret(json.dumps(virtual.to_dict()).encode(), context=_context(meter))
    VirtualMeterState.objects.update_or_create(meter=meter, defaults={"state_encrypted": blob})


def virtual_meter_copy(*, meter: Meter) -> VirtualMeter:
    """A copy to check tokens on without changing what the stored meter remembers."""
    with transaction.atomic():
        return virtual_meter_load(meter=meter)


def meter_enter(*, meter: Meter, token: str) -> EntryResult:
    """Type `token` into the meter's virtual meter and keep the result (the demo's keypad)."""
    digits = "".join(c for c in token if c.isdigit())
    with transaction.atomic():
        virtual_meter_load(meter=meter)  # creates the row if needed, so the lock below has a row
        virtual = virtual_meter_load(meter=meter, for_update=True)
        result = virtual.enter(digits)
        virtual_meter_save(meter=meter, virtual=virtual)
        if result.accepted:
            from vending.services.revenue import voided_token_seen

            voided_token_seen(meter=meter, digits=digits, source="virtual_meter")
    return result
