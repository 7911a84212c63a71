"""What one chunk of a key change campaign writes, worked out in memory (no queries, no writes).

The rules are those of one meter's key change (`key_changes.meter_key_change` and the issue path it uses,
vending.services.issuing): a meter already at the target is skipped; a supply group without a vending
key, or a meter the STS engine refuses, fails with a reason; pre-coded sets the pending_* fields the
pipeline applies at the next vend; at once moves the meter row to the new key now and, across a base
date (the 1993 → 2014 roll-over), clears last_tid as the meter clears its TID memory (the same rule
function, `issuing.clears_tid_memory`). Key change tokens carry no TID, so a chunk takes none.

What differs is the scale: a chunk holds thousands of meters moving between the same few supply
groups, so the vending keys are decrypted and the engine's per-group work is done once per group
(vending.sts.batch.KeyChangeBatch), and the meter updates come out grouped by identical values so the
caller writes them as a handful of UPDATEs. That is why it does not call `meter_token_issue` once per
meter (a lock, a config, a virtual meter and a save each): docs/BENCHMARKS.md "Key change campaigns"
measures this batch path. Each token is still checked before it is written, inside KeyChangeBatch
(decrypted back under the meter's current key, the whole block compared).
"""

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from backoffice.services.key_changes import NOW, KeyChangeTarget
from vending.models import SupplyGroup
from vending.services.issuing import clears_tid_memory
from vending.sts import MeterConfig, StsError, Token
from vending.sts.batch import KeyChangeBatch


class MeterRow(NamedTuple):
    """A campaign item and the meter fields a key change reads (one row of the chunk's locking query)."""

    item_id: int
    meter_id: int
    drn: str
    pan: str
    key_type: int
    tariff_index: int
    key_revision: int
    base_date: int
    supply_group_id: int


# The values the meter moves to, as (field attname, value) pairs: equal tuples share one UPDATE.
MeterValues = tuple[tuple[str, Any], ...]


@dataclass
class ChunkPlan:
    meter_updates: dict[MeterValues, list[int]] = field(default_factory=dict)  # values → meter ids
    tokens: list[tuple[int, list[Token]]] = field(default_factory=list)  # (meter id, its sections in order)
    done: list[int] = field(default_factory=list)  # item ids
    skipped: list[int] = field(default_factory=list)
    failed: dict[str, list[int]] = field(default_factory=dict)  # reason → item ids
    # For the chunk's audit event: each distinct configuration before / after → the meters in it.
    before: dict[tuple, list[int]] = field(default_factory=dict)
    after: dict[tuple, list[int]] = field(default_factory=dict)
    failed_meters: dict[int, str] = field(default_factory=dict)  # meter id → reason
    skipped_meters: list[int] = field(default_factory=list)


def _group_config(group: SupplyGroup) -> MeterConfig:
    """The group's part of a meter configuration (the vending key decrypted once per chunk)."""
    return MeterConfig(
        sgc=group.sgc,
        ea=group.ea,
        dkga=group.dkga,
        ken=group.ken,
        base_date=group.base_date,
        vending_key=group.vending_key(),
    )


class _Batches:
    """One KeyChangeBatch per current supply group (or the reason the group cannot be changed)."""

    def __init__(self, groups: dict[int, SupplyGroup], target: SupplyGroup) -> None:
        self._groups = groups
        self._target = target
        self._made: dict[int, KeyChangeBatch | str] = {}

    def get(self, group_id: int) -> KeyChangeBatch | str:
        found = self._made.get(group_id)
        if found is None:
            found = self._made[group_id] = self._make(self._groups[group_id])
        return found

    def _make(self, current: SupplyGroup) -> KeyChangeBatch | str:
        for needed in (current, self._target):
            if not needed.has_vending_key:
                return f"Supply group {needed.sgc} KRN {needed.key_revision} has no vending key."
        try:
            return KeyChangeBatch(_group_config(current), _group_config(self._target))
        except StsError as exc:
            return f"the STS engine refused: {exc}"


def plan_chunk(
    *,
    rows: list[MeterRow],
    groups: dict[int, SupplyGroup],
    target: KeyChangeTarget,
    mode: str,
    refused: str | None = None,
) -> ChunkPlan:
    """Sort every row of a chunk into done / skipped / failed and collect what the done ones write.

    `refused`: why the target itself is unsafe now (key_guard.group_problem); every meter still to
    change fails with it."""
    plan = ChunkPlan()
    group = target.supply_group
    new_krn = group.key_revision
    batches = _Batches(groups, group)
    for row in rows:
        new_ti = row.tariff_index if target.tariff_index is None else target.tariff_index
        new_base_date = group.base_date if target.base_date is None else target.base_date
        if (row.supply_group_id, row.key_revision, row.tariff_index, row.base_date) == (
            group.pk,
            new_krn,
            new_ti,
            new_base_date,
        ):
            plan.skipped.append(row.item_id)
            plan.skipped_meters.append(row.meter_id)
            continue
        batch = batches.get(row.supply_group_id)
        rollover = clears_tid_memory(row.base_date, new_base_date)
        try:
            if refused:
                raise _Refused(f"Key change refused: {refused}.")
            if isinstance(batch, str):
                raise _Refused(batch)
            if mode == NOW:
                sections = batch.tokens(
                    pan=row.pan,
                    kt=row.key_type,
                    ti=row.tariff_index,
                    krn=row.key_revision,
                    base_date=row.base_date,
                    new_ti=new_ti,
                    new_krn=new_krn,
                    new_base_date=new_base_date,
                    ro=rollover,
                )
            else:
                batch.check(
                    pan=row.pan,
                    kt=row.key_type,
                    ti=row.tariff_index,
                    krn=row.key_revision,
                    base_date=row.base_date,
                    new_ti=new_ti,
                    new_krn=new_krn,
                    new_base_date=new_base_date,
                )
        except _Refused as exc:
            _fail(plan, row, str(exc))
            continue
        except StsError as exc:
            _fail(plan, row, f"the STS engine refused: {exc}")
            continue
        plan.done.append(row.item_id)
        before_sgc = groups[row.supply_group_id].sgc
        plan.before.setdefault((before_sgc, row.key_revision, row.tariff_index, row.base_date), []).append(row.meter_id)
        if mode == NOW:
            values: MeterValues = (
                ("supply_group_id", group.pk),
                ("key_revision", new_krn),
                ("tariff_index", new_ti),
                ("base_date", new_base_date),
                ("pending_supply_group_id", None),
                ("pending_tariff_index", None),
                ("pending_key_revision", None),
                ("pending_base_date", None),
            )
            if rollover:
                values += (("last_tid", None),)  # the meter cleared its TID memory; minutes restart
            plan.tokens.append((row.meter_id, sections))
        else:
            values = (
                ("pending_supply_group_id", group.pk),
                ("pending_tariff_index", new_ti),
                ("pending_key_revision", new_krn),
                ("pending_base_date", new_base_date),
            )
        plan.meter_updates.setdefault(values, []).append(row.meter_id)
        plan.after.setdefault((group.sgc, new_krn, new_ti, new_base_date, rollover), []).append(row.meter_id)
    return plan


class _Refused(Exception):
    pass


def _fail(plan: ChunkPlan, row: MeterRow, reason: str) -> None:
    reason = reason[:255]
    plan.failed.setdefault(reason, []).append(row.item_id)
    plan.failed_meters[row.meter_id] = reason


def audit_summary(plan: ChunkPlan) -> tuple[dict, dict, dict]:
    """(before, after, data) of the chunk's one audit event: every configuration with its meter ids."""
    before = {
        "configs": [
            {"sgc": sgc, "krn": krn, "ti": ti, "base_date": base, "meter_ids": ids}
            for (sgc, krn, ti, base), ids in plan.before.items()
        ]
    }
    after = {
        "configs": [
            {"sgc": sgc, "krn": krn, "ti": ti, "base_date": base, "rollover": ro, "meter_ids": ids}
            for (sgc, krn, ti, base, ro), ids in plan.after.items()
        ]
    }
    data = {
        "changed": len(plan.done),
        "skipped_meter_ids": plan.skipped_meters,
        "failed": {str(meter_id): reason for meter_id, reason in plan.failed_meters.items()},
    }
    return before, after, data
