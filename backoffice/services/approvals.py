"""Maker-checker: actions that need a second person of the right role, with a reason, before they happen.

Which actions (issue 17): entering or changing a vending key; a refund above REFUND_APPROVAL_THRESHOLDS
(per currency: amounts in different currencies are never compared); a free token that takes a meter
above FREE_TOKEN_APPROVAL_KWH in one local day; a tariff change. The maker opens a request
(`*_request`), a second person holding the same right decides it (`approval_decide`), the maker never
their own. Each step is an audit event, and the action itself writes its own event as the checker.
The thresholds and the check an acting service makes are in `approval_rules`, below this module and the
services it carries out.

A vending key of a supply group with meters is never swapped in place: the approved key goes to a new
key revision of the same supply group code (the old row and its encrypted key stay, so tokens already
issued still decode) and a pre-coded key-change campaign moves the group's meters to it.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Field, Max, Q
from django.utils import timezone

from backoffice.models import Approval
from backoffice.permissions import (
    CHANGE_METER_KEY,
    ISSUE_FREE_TOKEN,
    REFUND_PURCHASE,
    require,
    require_reason,
)

# When an action needs a second person is decided below this module (approval_rules), so the services it
# carries out never import it back; the admin and the tests still ask these three names of approvals.
from backoffice.services.approval_rules import ApprovalRequired as ApprovalRequired
from backoffice.services.approval_rules import free_token_needs_approval as free_token_needs_approval
from backoffice.services.approval_rules import refund_needs_approval as refund_needs_approval
from backoffice.services.meter_tokens import free_token_issue
from backoffice.services.support import staff_purchase_refund
from vending.crypto import decrypt_secret, encrypt_secret
from vending.exceptions import PermissionDenied, VendingError
from vending.models import Meter, Purchase, SupplyGroup, Tariff
from vending.services.audit import audit_record
from vending.sts.weakkeys import weak_key_problem

CHANGE_SUPPLY_GROUP = "vending.change_supplygroup"
CHANGE_TARIFF = "vending.change_tariff"

# The right the checker needs, by kind (the maker needed the same to ask).
CHECKER_PERMS: dict[str, tuple[str, ...]] = {
    Approval.Kind.VENDING_KEY: (CHANGE_SUPPLY_GROUP, CHANGE_METER_KEY),
    Approval.Kind.REFUND: (REFUND_PURCHASE,),
    Approval.Kind.FREE_TOKEN: (ISSUE_FREE_TOKEN,),
    Approval.Kind.TARIFF_CHANGE: (CHANGE_TARIFF,),
}
# Tariff fields a change request may carry (blocks are edited on their own rows).
TARIFF_FIELDS = (
    "name",
    "kind",
    "price_per_kwh",
    "vat_percent",
    "fixed_monthly_charge",
    "debt_recovery_percent",
    "min_purchase",
    "max_purchase",
    "is_active",
)


# --- opening requests ----------------------------------------------------------------------------------------


def _open(*, actor: User, kind: str, reason: str, summary: str, **fields: Any) -> Approval:
    for perm in CHECKER_PERMS[kind]:
        require(actor, perm)
    reason = require_reason(reason)
    with transaction.atomic():
        approval = Approval.objects.create(
            kind=kind, maker=actor, maker_reason=reason[:500], summary=summary[:255], **fields
        )
        audit_record(
            action="approval.requested",
            obj=approval,
            actor=actor,
            reason=reason,
            purchase=fields.get("purchase"),
            data={"kind": kind, "summary": summary[:255]},
        )
    return approval


def _key_context(group: SupplyGroup) -> str:
    return f"approval:vending-key:{group.pk}:{group.sgc}:{group.key_revision}"


def vending_key_request(*, actor: User, supply_group: SupplyGroup, key: bytes, reason: str) -> Approval:
    """Ask for `key` to become the group's vending key; it is kept encrypted until decided."""
    weak = weak_key_problem(key)
    if weak:
        raise VendingError(f"This key cannot be used: {weak}.")
    verb = "Change" if supply_group.has_vending_key else "Enter"
    return _open(
        actor=actor,
        kind=Approval.Kind.VENDING_KEY,
        reason=reason,
        supply_group=supply_group,
        summary=f"{verb} the vending key of {supply_group.sgc} KRN {supply_group.key_revision}",
        secret_encrypted=encrypt_secret(key, context=_key_context(supply_group)),
    )


def refund_request(*, actor: User, purchase: Purchase, reason: str) -> Approval:
    return _open(
        actor=actor,
        kind=Approval.Kind.REFUND,
        reason=reason,
        purchase=purchase,
        summary=f"Refund {purchase.currency} {purchase.amount:,.2f} of purchase {purchase.reference}",
        payload={"amount": str(purchase.amount), "currency": purchase.currency},
    )


def free_token_request(*, actor: User, meter: Meter, kwh: Decimal, delivery: str, reason: str) -> Approval:
    return _open(
        actor=actor,
        kind=Approval.Kind.FREE_TOKEN,
        reason=reason,
        meter=meter,
        summary=f"Free token of {kwh:,.1f} kWh for meter {meter.drn}",
        payload={"kwh": str(kwh), "delivery": delivery},
    )


def tariff_change_request(*, actor: User, tariff: Tariff, changes: dict[str, Any], reason: str) -> Approval:
    unknown = set(changes) - set(TARIFF_FIELDS)
    if unknown:
        raise VendingError(f"These tariff fields cannot be changed by request: {', '.join(sorted(unknown))}.")
    text = {name: str(value) for name, value in changes.items()}
    return _open(
        actor=actor,
        kind=Approval.Kind.TARIFF_CHANGE,
        reason=reason,
        tariff=tariff,
        payload=text,
        summary=f"Change tariff {tariff.name}: {', '.join(sorted(text))}",
    )


# --- deciding ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    approval: Approval
    outcome: Any = None  # what the approved action returned (tokens to show once, a campaign, ...)


def approval_decide(
    *, actor: User, approval: Approval, approve: bool, reason: str, now: datetime | None = None
) -> Decision:
    """Approve (and carry out) or reject a pending request, as a second person of the right role."""
    for perm in CHECKER_PERMS[approval.kind]:
        require(actor, perm)
    reason = require_reason(reason)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Approval.objects.select_for_update().get(pk=approval.pk)
        if locked.status != Approval.Status.PENDING:
            raise VendingError(f"Request #{locked.pk} was already decided.")
        if locked.maker_id == actor.pk:
            raise PermissionDenied("You asked for this yourself: a second person must decide it.")
        locked.checker, locked.checker_reason, locked.decided_at = actor, reason[:500], now
        outcome = None
        if approve:
            outcome, locked.result = _carry_out(locked, actor=actor, reason=reason, now=now)
            locked.status = Approval.Status.APPROVED
        else:
            locked.status = Approval.Status.REJECTED
        locked.secret_encrypted = None  # the typed key is not kept once decided (it lives on the group if approved)
        locked.save()
        audit_record(
            action="approval.approved" if approve else "approval.rejected",
            obj=locked,
            actor=actor,
            reason=reason,
            purchase=locked.purchase,
            data={
                "kind": locked.kind,
                "summary": locked.summary,
                "maker": locked.maker.get_username(),
                "result": locked.result,
            },
        )
    return Decision(approval=locked, outcome=outcome)


_T = TypeVar("_T")


def _subject(value: _T | None, approval: Approval) -> _T:
    """What a request of its kind is about (a purchase, a meter, a supply group…): set when it was made."""
    if value is None:
        raise VendingError(f"Request #{approval.pk} ({approval.get_kind_display()}) no longer has what it was about.")
    return value


def _carry_out(approval: Approval, *, actor: User, reason: str, now: datetime) -> tuple[Any, dict]:
    why = f"{approval.maker_reason} (approved by {actor.get_username()}: {reason})"[:500]
    if approval.kind == Approval.Kind.VENDING_KEY:
        return _apply_vending_key(approval, actor=actor, reason=why)
    if approval.kind == Approval.Kind.REFUND:
        purchase = staff_purchase_refund(
            actor=actor, purchase=_subject(approval.purchase, approval), reason=why, approval=approval
        )
        return purchase, {"purchase_state": purchase.state}
    if approval.kind == Approval.Kind.FREE_TOKEN:
        issued = free_token_issue(
            actor=actor,
            meter=_subject(approval.meter, approval),
            kwh=Decimal(approval.payload["kwh"]),
            delivery=approval.payload["delivery"],
            reason=why,
            now=now,
            approval=approval,
        )
        return issued, {"token_id": issued.token.pk, "sms_count": issued.sms_count}
    return _apply_tariff(approval, actor=actor, reason=why)


def _apply_vending_key(approval: Approval, *, actor: User, reason: str) -> tuple[Any, dict]:
    from backoffice.services.campaigns import campaign_start
    from backoffice.services.key_changes import PRECODE, KeyChangeTarget
    from vending.services.keys import supply_group_set_vending_key

    group = _subject(approval.supply_group, approval)
    key = decrypt_secret(bytes(_subject(approval.secret_encrypted, approval)), context=_key_context(group))
    meter_ids = list(
        Meter.objects.filter(Q(supply_group=group) | Q(pending_supply_group=group)).values_list("pk", flat=True)
    )
    if not meter_ids:
        supply_group_set_vending_key(supply_group=group, key=key, actor=actor, reason=reason)
        return group, {"supply_group_id": group.pk, "in_place": True}
    # Meters hold the old key: keep it (tokens already issued still decode) and move them to a new revision.
    top = SupplyGroup.objects.filter(sgc=group.sgc).aggregate(k=Max("key_revision"))["k"] or group.key_revision
    if top >= 9:
        raise VendingError(f"Supply group {group.sgc} has used all nine key revisions.")
    new_group = SupplyGroup.objects.create(
        utility=group.utility,
        name=group.name,
        sgc=group.sgc,
        key_revision=top + 1,
        dkga=group.dkga,
        ea=group.ea,
        base_date=group.base_date,
        ken=group.ken,
        is_active=True,
    )
    supply_group_set_vending_key(supply_group=new_group, key=key, actor=actor, reason=reason)
    campaign = campaign_start(
        actor=actor,
        meter_ids=meter_ids,
        name=f"New key {group.sgc} KRN {top + 1}",
        reason=reason,
        mode=PRECODE,
        delivery="none",
        target=KeyChangeTarget(supply_group=new_group),
    )
    return campaign, {
        "supply_group_id": new_group.pk,
        "key_revision": top + 1,
        "campaign_id": campaign.pk,
        "meters": len(meter_ids),
        "in_place": False,
    }


def _apply_tariff(approval: Approval, *, actor: User, reason: str) -> tuple[Any, dict]:
    tariff = Tariff.objects.select_for_update().get(pk=_subject(approval.tariff_id, approval))
    before = {name: str(getattr(tariff, name)) for name in approval.payload}
    for name, text in approval.payload.items():
        field = Tariff._meta.get_field(name)
        if not isinstance(field, Field):  # the maker's form offers only the tariff's own fields
            raise VendingError(f"{name} is not a field of a tariff.")
        setattr(tariff, name, field.to_python(text) if text != "None" else None)
    tariff.full_clean()
    tariff.save()
    audit_record(
        action="tariff.changed",
        obj=tariff,
        actor=actor,
        reason=reason,
        before=before,
        after=dict(approval.payload),
        data={"approval_id": approval.pk},
    )
    return tariff, {"tariff_id": tariff.pk}
