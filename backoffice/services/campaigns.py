"""Key change campaigns: many meters, processed in chunks by a Celery task, resumable, each meter once.

Exactly once: a campaign has one item per meter (unique (campaign, meter)); a chunk locks its pending
items (skip_locked, so two workers never take the same ones) and, in one transaction, writes the
meters' new keys, their tokens, their audit rows and the items' final status. A worker killed
mid-chunk rolls the whole chunk back; the next run takes the same items again.
"""

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from backoffice.models import KeyChangeCampaign, KeyChangeItem
from backoffice.permissions import CHANGE_METER_KEY, require, require_reason
from backoffice.services.key_changes import (
    METER_FIELDS,
    MODES,
    NOW,
    PRECODE,
    AlreadyAtTarget,
    ConfigCache,
    KeyChangeTarget,
    plan_key_change,
    sms_key_change_tokens,
)
from vending.exceptions import VendingError
from vending.models import AuditEvent, Meter, Token
from vending.services.audit import audit_record

CHUNK_SIZE = 500


def campaign_start(
    *,
    actor: AbstractBaseUser,
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
    from backoffice.tasks import campaign_run_task

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
        campaign_run_task.delay_on_commit(campaign.pk)
    return campaign


def campaign_resume(*, actor: AbstractBaseUser, campaign: KeyChangeCampaign) -> int:
    """Enqueue the campaign again (after a stopped worker); returns the number of meters still pending."""
    require(actor, CHANGE_METER_KEY)
    from backoffice.tasks import campaign_run_task

    pending = campaign.items.filter(status=KeyChangeItem.Status.PENDING).count()
    with transaction.atomic():
        audit_record(action="key_change_campaign.resumed", obj=campaign, actor=actor, data={"pending": pending})
        if pending:
            campaign_run_task.delay_on_commit(campaign.pk)
    return pending


def _target_of(campaign: KeyChangeCampaign) -> KeyChangeTarget:
    return KeyChangeTarget(supply_group=campaign.target_supply_group, tariff_index=campaign.target_tariff_index,
                           base_date=campaign.target_base_date)


def campaign_process_chunk(*, campaign_id: int, limit: int = CHUNK_SIZE, now: datetime | None = None) -> int:
    """Apply the next `limit` pending meters of a campaign; return how many items were settled."""
    now = now or timezone.now()
    campaign = KeyChangeCampaign.objects.select_related("target_supply_group", "created_by").get(pk=campaign_id)
    target = _target_of(campaign)
    actor = campaign.created_by
    cache = ConfigCache()
    with transaction.atomic():
        items = list(
            KeyChangeItem.objects.select_for_update(skip_locked=True, of=("self", "meter"))
            .select_related("meter", "meter__supply_group")
            .filter(campaign=campaign, status=KeyChangeItem.Status.PENDING)
            .order_by("pk")[:limit]
        )
        changed: list[Meter] = []
        tokens: list[Token] = []
        audits: list[AuditEvent] = []
        sends: list[tuple[Meter, list[Token]]] = []
        for item in items:
            meter = item.meter
            try:
                plan = plan_key_change(meter=meter, target=target, mode=campaign.mode, cache=cache, actor=actor,
                                       reason=campaign.reason)
            except AlreadyAtTarget:
                item.status = KeyChangeItem.Status.SKIPPED
            except VendingError as exc:
                item.status, item.error = KeyChangeItem.Status.FAILED, str(exc)[:255]
            else:
                item.status = KeyChangeItem.Status.DONE
                meter.updated_at = now
                changed.append(meter)
                tokens.extend(plan.tokens)
                if plan.tokens and campaign.delivery == KeyChangeCampaign.Delivery.SMS:
                    sends.append((meter, plan.tokens))
                # One audit row per meter, written in bulk; the same fields audit_record writes.
                audits.append(AuditEvent(
                    action="meter.key_change_precoded" if campaign.mode == PRECODE else "meter.key_changed",
                    object_type="meter", object_id=str(meter.pk), actor=actor, actor_label=actor.get_username(),
                    reason=campaign.reason, before=plan.before, after=plan.after,
                    data={"campaign": campaign.pk, "mode": campaign.mode},
                ))
            item.processed_at = now
        _update_grouped(Meter, changed, [f for f in METER_FIELDS if f != "updated_at"], updated_at=now)
        Token.objects.bulk_create(tokens, batch_size=1000)
        AuditEvent.objects.bulk_create(audits, batch_size=1000)
        _update_grouped(KeyChangeItem, items, ["status", "error"], processed_at=now)
        if campaign.mode == NOW:
            for meter, meter_tokens in sends:
                sms_key_change_tokens(meter=meter, tokens=meter_tokens)
        _finish_if_complete(campaign, now)
    return len(items)


def _update_grouped(model, rows: list, fields: list[str], **common) -> None:
    """Write `fields` of many rows as one UPDATE per distinct combination of values.

    A campaign moves its meters to the same target, so a chunk is a handful of UPDATEs; Django's
    bulk_update (one CASE per field per row) spent most of a chunk's time building SQL.
    """
    groups: dict[tuple, list[int]] = {}
    for row in rows:
        values = tuple(getattr(row, model._meta.get_field(f).attname) for f in fields)
        groups.setdefault(values, []).append(row.pk)
    attnames = [model._meta.get_field(f).attname for f in fields]
    for values, pks in groups.items():
        model.objects.filter(pk__in=pks).update(**dict(zip(attnames, values, strict=True)), **common)


def _finish_if_complete(campaign: KeyChangeCampaign, now: datetime) -> None:
    if campaign.items.filter(status=KeyChangeItem.Status.PENDING).exists():
        return
    locked = KeyChangeCampaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.finished_at is not None:
        return
    failed = locked.items.filter(status=KeyChangeItem.Status.FAILED).count()
    locked.status = KeyChangeCampaign.Status.FAILED if failed else KeyChangeCampaign.Status.DONE
    locked.finished_at = now
    locked.save(update_fields=["status", "finished_at"])
    audit_record(action="key_change_campaign.finished", obj=locked, actor_label="system",
                 after={"status": locked.status}, data=campaign_progress(locked))


def campaign_progress(campaign: KeyChangeCampaign) -> dict[str, int]:
    """Counts per item status plus the total and the percentage settled."""
    counts = dict.fromkeys(KeyChangeItem.Status.values, 0)
    for row in campaign.items.values("status").order_by().annotate(n=_count()):
        counts[row["status"]] = row["n"]
    total = campaign.total or sum(counts.values())
    settled = total - counts[KeyChangeItem.Status.PENDING]
    return {**counts, "total": total, "settled": settled, "percent": int(100 * settled / total) if total else 100}


def _count():
    from django.db.models import Count

    return Count("pk")
