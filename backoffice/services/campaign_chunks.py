"""The chunks of a key change campaign, as backoffice.tasks.campaign_run_task runs them.

Exactly once: a campaign has one item per meter (unique (campaign, meter)); a chunk locks its pending
items and their meters (skip_locked, so parallel chunks never take the same ones) and, in one
transaction, writes the meters' new keys, their tokens, the items' final status and one audit event
for the chunk (every meter's before/after in it). A worker killed mid-chunk rolls the whole chunk
back; the next run takes the same items again, and settled items are never taken again.

Batched on purpose, not one `vending.services.issuing.meter_token_issue` per meter: thousands of meters
per chunk written in a handful of statements is the measured speed of docs/BENCHMARKS.md "Key change
campaigns". The rules are shared, not copied: see backoffice.services.campaign_plan.
"""

from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from backoffice.models import KeyChangeCampaign, KeyChangeItem
from backoffice.services import key_guard
from backoffice.services.bulk_sql import insert_rows
from backoffice.services.campaign_plan import MeterRow, audit_summary, plan_chunk
from backoffice.services.key_changes import NOW, KeyChangeTarget, sms_key_change_tokens
from vending.models import Meter, SupplyGroup, Token
from vending.services.audit import audit_record

# Meters per chunk: a chunk is one transaction and one Celery task (about a second of work).
CHUNK_SIZE = 2000


def _target_of(campaign: KeyChangeCampaign) -> KeyChangeTarget:
    return KeyChangeTarget(
        supply_group=campaign.target_supply_group,
        tariff_index=campaign.target_tariff_index,
        base_date=campaign.target_base_date,
    )


def campaign_process_chunk(*, campaign_id: int, limit: int = CHUNK_SIZE, now: datetime | None = None) -> int:
    """Apply the next `limit` pending meters of a campaign; return how many items were settled.

    One transaction: lock the items and their meters (skip_locked: parallel chunks take disjoint
    items), plan them in memory, then a handful of statements: grouped meter UPDATEs, one COPY of the
    tokens, item UPDATEs per outcome and one audit event for the chunk.
    """
    now = now or timezone.now()
    campaign = KeyChangeCampaign.objects.select_related("target_supply_group", "created_by").get(pk=campaign_id)
    actor = campaign.created_by
    with transaction.atomic():
        rows = _lock_chunk(campaign, limit)
        if not rows:
            return 0
        groups = SupplyGroup.objects.in_bulk({row.supply_group_id for row in rows})
        target = _target_of(campaign)
        # Checked again when the chunk runs: a campaign resumed later may find its target's time run out.
        refused = key_guard.group_problem(
            group=target.supply_group, now=timezone.localtime(now), base_date=target.base_date
        )
        plan = plan_chunk(rows=rows, groups=groups, target=target, mode=campaign.mode, refused=refused)
        for values, meter_ids in plan.meter_updates.items():
            Meter.objects.filter(pk__in=meter_ids).update(**dict(values), updated_at=now)
        insert_rows(
            Token,
            fields=["meter", "sequence", "token_class", "subclass", "digits"],
            rows=(
                (meter_id, sequence, t.token_class, t.subclass, t.digits)
                for meter_id, sections in plan.tokens
                for sequence, t in enumerate(sections)
            ),
            common={
                "kind": Token.Kind.KEY_CHANGE,
                "reason": campaign.reason[:255],
                "issued_by": actor.pk,
                "created_at": now,
            },
        )
        _settle(plan.done, KeyChangeItem.Status.DONE, now)
        _settle(plan.skipped, KeyChangeItem.Status.SKIPPED, now)
        for reason, item_ids in plan.failed.items():
            _settle(item_ids, KeyChangeItem.Status.FAILED, now, error=reason)
        before, after, data = audit_summary(plan)
        # The campaign is one staff action: one event per chunk, every meter's before/after in it.
        audit_record(
            action="key_change_campaign.chunk_applied",
            obj=campaign,
            actor=actor,
            reason=campaign.reason,
            before=before,
            after=after,
            data={"mode": campaign.mode, "delivery": campaign.delivery, **data},
        )
        if campaign.mode == NOW and campaign.delivery == KeyChangeCampaign.Delivery.SMS:
            _send(plan.tokens, campaign.reason, actor)
    _finish_if_complete(campaign, now)
    return len(rows)


def _lock_chunk(campaign: KeyChangeCampaign, limit: int) -> list[MeterRow]:
    """Lock the next pending items (skipping those another chunk holds), then their meters, in pk order
    (a vend holding a meter makes the chunk wait, never the other way round for long)."""
    items = dict(
        KeyChangeItem.objects.select_for_update(skip_locked=True)
        .filter(campaign=campaign, status=KeyChangeItem.Status.PENDING)
        .order_by("pk")
        .values_list("meter_id", "pk")[:limit]
    )
    meters = (
        Meter.objects.select_for_update()
        .filter(pk__in=list(items))
        .order_by("pk")
        .values_list("pk", "drn", "pan", "key_type", "tariff_index", "key_revision", "base_date", "supply_group_id")
    )
    return [MeterRow(items[meter[0]], *meter) for meter in meters]


def _settle(item_ids: list[int], status: str, now: datetime, error: str = "") -> None:
    if item_ids:
        KeyChangeItem.objects.filter(pk__in=item_ids).update(status=status, error=error, processed_at=now)


def _send(tokens: list[tuple[int, list]], reason: str, actor: User) -> None:
    """The tokens by SMS to each changed meter's customers; a meter nobody saved is left to staff."""
    meters = Meter.objects.in_bulk([meter_id for meter_id, _ in tokens])
    for meter_id, sections in tokens:
        rows = [
            Token(
                meter_id=meter_id,
                kind=Token.Kind.KEY_CHANGE,
                token_class=s.token_class,
                subclass=s.subclass,
                sequence=i,
                digits=s.digits,
                reason=reason[:255],
                issued_by=actor,
            )
            for i, s in enumerate(sections)
        ]
        sms_key_change_tokens(meter=meters[meter_id], tokens=rows, required=False)


def _finish_if_complete(campaign: KeyChangeCampaign, now: datetime) -> None:
    """Close the campaign once nothing is pending. Run after the chunk commits: two chunks finishing
    together would each still see the other's items pending inside their own transactions."""
    if campaign.items.filter(status=KeyChangeItem.Status.PENDING).exists():
        return
    with transaction.atomic():
        locked = KeyChangeCampaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.finished_at is not None:
            return
        failed = locked.items.filter(status=KeyChangeItem.Status.FAILED).exists()
        locked.status = KeyChangeCampaign.Status.FAILED if failed else KeyChangeCampaign.Status.DONE
        locked.finished_at = now
        locked.save(update_fields=["status", "finished_at"])
        audit_record(
            action="key_change_campaign.finished",
            obj=locked,
            actor_label="system",
            after={"status": locked.status},
            data=campaign_progress(locked),
        )


def campaign_progress(campaign: KeyChangeCampaign) -> dict[str, int]:
    """Counts per item status plus the total and the percentage settled."""
    counts = dict.fromkeys(KeyChangeItem.Status.values, 0)
    for row in campaign.items.values("status").order_by().annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    total = campaign.total or sum(counts.values())
    settled = total - counts[KeyChangeItem.Status.PENDING]
    return {**counts, "total": total, "settled": settled, "percent": int(100 * settled / total) if total else 100}
