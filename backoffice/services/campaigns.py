"""Key change campaigns: many meters, processed in chunks by a Celery task, resumable, each meter once.

The staff actions live here: start a campaign (one pending item per meter) and resume it, each enqueueing
backoffice.tasks.campaign_run_task, which runs the chunks of backoffice/services/campaign_chunks.py (how a
chunk applies each meter exactly once is told there).

Speed (issue 7, docs/BENCHMARKS.md): the per-meter work is only the STS arithmetic
(campaign_plan, vending.sts.batch); the database sees a handful of statements per chunk, and
PARALLEL_CHUNKS task chains keep both worker processes busy.
"""

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from backoffice.models import KeyChangeCampaign, KeyChangeItem
from backoffice.permissions import CHANGE_METER_KEY, require, require_reason
from backoffice.services import key_guard
from backoffice.services.campaign_chunks import CHUNK_SIZE
from backoffice.services.key_changes import MODES, ConfigCache, KeyChangeTarget
from backoffice.tasks import campaign_run_task
from vending.exceptions import VendingError
from vending.models import Meter
from vending.services.audit import audit_record
from vending.sts import StsError as EngineError

# Chunks of one campaign running at once (one per worker process / CPU core).
PARALLEL_CHUNKS = 2


def campaign_start(
    *,
    actor: User,
    meter_ids: Iterable[int],
    name: str,
    reason: str,
    mode: str,
    delivery: str,
    target: KeyChangeTarget,
    filter_description: str = "",
) -> KeyChangeCampaign:
    """Create the campaign with one pending item per meter and enqueue its first chunk."""
    require(actor, CHANGE_METER_KEY)
    reason = require_reason(reason)
    if mode not in MODES:
        raise VendingError(f"unknown key change mode {mode!r}")
    if delivery not in KeyChangeCampaign.Delivery.values:
        raise VendingError(f"unknown delivery {delivery!r}")
    ids = sorted(set(meter_ids))
    if not ids:
        raise VendingError("Choose at least one meter.")
    check_campaign_target(meter_ids=ids, target=target, now=timezone.now())
    with transaction.atomic():
        campaign = KeyChangeCampaign.objects.create(
            name=name[:120] or f"Key change to {target.supply_group}",
            reason=reason,
            mode=mode,
            delivery=delivery,
            target_supply_group=target.supply_group,
            target_tariff_index=target.tariff_index,
            target_base_date=target.base_date,
            total=len(ids),
            created_by=actor,
        )
        KeyChangeItem.objects.bulk_create(
            [KeyChangeItem(campaign=campaign, meter_id=pk) for pk in ids], batch_size=2000
        )
        audit_record(
            action="key_change_campaign.started",
            obj=campaign,
            actor=actor,
            reason=reason,
            after={
                "mode": mode,
                "delivery": delivery,
                "target_sgc": target.supply_group.sgc,
                "target_krn": target.supply_group.key_revision,
                "tariff_index": target.tariff_index,
                "base_date": target.base_date,
            },
            data={"meters": len(ids), "filter": filter_description[:500]},
        )
        _enqueue(campaign.pk, len(ids))
    return campaign


def check_campaign_target(*, meter_ids: list[int], target: KeyChangeTarget, now: datetime) -> None:
    """Refuse (key_guard.UnsafeKeyChange) a campaign whose target some chosen meter could not vend on.

    The target-wide rules once; utility and currency for every meter in one query; the per-meter rules
    (same key, trial vend) on one sample meter of each present supply group, since within a group only
    the PAN differs and the engine's arithmetic does not depend on it."""
    group = target.supply_group
    wall = timezone.localtime(now)
    key_guard.refuse_if(key_guard.group_problem(group=group, now=wall, base_date=target.base_date))
    foreign = (
        Meter.objects.filter(pk__in=meter_ids)
        .exclude(tariff__utility_id=group.utility_id, tariff__currency=group.utility.currency)
        .count()
    )
    if foreign:
        key_guard.refuse_if(
            f"{foreign} of the chosen meters belong to another utility or currency than supply "
            f"group {group.sgc} KRN {group.key_revision}"
        )
    cache, sampled = ConfigCache(), set()
    for meter in (
        Meter.objects.filter(pk__in=meter_ids)
        .select_related("supply_group", "tariff")
        .order_by("supply_group_id", "pk")
    ):
        # a meter whose present group has no key, or that the engine refuses, fails on its own in its chunk
        if meter.supply_group_id in sampled or target.reached_by(meter) or not meter.supply_group.has_vending_key:
            continue
        try:
            current, new = cache.current(meter), cache.target(meter, target)
        except EngineError:
            continue
        sampled.add(meter.supply_group_id)
        key_guard.refuse_if(key_guard.meter_problem(meter=meter, group=group))
        key_guard.refuse_if(key_guard.trial_vend(current=current, new=new, now=wall))


def _enqueue(campaign_id: int, pending: int) -> None:
    """Start up to PARALLEL_CHUNKS task chains (each runs a chunk and enqueues its next) once committed."""
    for _ in range(min(PARALLEL_CHUNKS, -(-pending // CHUNK_SIZE))):
        campaign_run_task.delay_on_commit(campaign_id)


def campaign_resume(*, actor: User, campaign: KeyChangeCampaign) -> int:
    """Enqueue the campaign again (after a stopped worker); returns the number of meters still pending."""
    require(actor, CHANGE_METER_KEY)
    pending = campaign.items.filter(status=KeyChangeItem.Status.PENDING).count()
    with transaction.atomic():
        audit_record(action="key_change_campaign.resumed", obj=campaign, actor=actor, data={"pending": pending})
        _enqueue(campaign.pk, pending)
    return pending
