"""Key change campaigns: many meters, processed in chunks by a Celery task, resumable, each meter once.

The staff actions live here: start a campaign (one pending item per meter) and resume it, each enqueueing
backoffice.tasks.campaign_run_task, which runs the chunks of backoffice/services/campaign_chunks.py (how a
chunk applies each meter exactly once is told there).

Speed (issue 7, docs/BENCHMARKS.md): the per-meter work is only the STS arithmetic
(campaign_plan, vending.sts.batch); the database sees a handful of statements per chunk, and
PARALLEL_CHUNKS task chains keep both worker processes busy.
"""

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction

from backoffice.models import KeyChangeCampaign, KeyChangeItem
from backoffice.permissions import CHANGE_METER_KEY, require, require_reason
from backoffice.services.campaign_chunks import CHUNK_SIZE
from backoffice.services.key_changes import MODES, KeyChangeTarget
from backoffice.tasks import campaign_run_task
from vending.exceptions import VendingError
from vending.services.audit import audit_record

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
    with transaction.atomic():
        campaign = KeyChangeCampaign.objects.create(
            name=name[:120] or f"Key change to {target.supply_group}", reason=reason, mode=mode, delivery=delivery,
            target_supply_group=target.supply_group, target_tariff_index=target.tariff_index,
            target_base_date=target.base_date, total=len(ids), created_by=actor,
        )
        KeyChangeItem.objects.bulk_create(
            [KeyChangeItem(campaign=campaign, meter_id=pk) for pk in ids], batch_size=2000
        )
        audit_record(action="key_change_campaign.started", obj=campaign, actor=actor, reason=reason,
                     after={"mode": mode, "delivery": delivery, "target_sgc": target.supply_group.sgc,
                            "target_krn": target.supply_group.key_revision, "tariff_index": target.tariff_index,
                            "base_date": target.base_date},
                     data={"meters": len(ids), "filter": filter_description[:500]})
        _enqueue(campaign.pk, len(ids))
    return campaign


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
