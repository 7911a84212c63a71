"""Engineering tokens (clear tamper, clear credit, set power limit) and free credit tokens, issued by staff.

The token itself comes from `vending.services.issuing.meter_token_issue`, the issue path the pipeline and
key changes use too: the meter row locked, the next TID (tokens for one meter never share one), the token
typed into a virtual meter in the meter's configuration before it is stored. This module adds the staff
rules around it: the right, the reason, the delivery, the approval above the daily free kWh, the audit.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from backoffice.models import Approval
from backoffice.permissions import ISSUE_ENGINEERING_TOKEN, ISSUE_FREE_TOKEN, require, require_reason
from backoffice.services.approval_rules import check_approved, free_token_needs_approval
from backoffice.services.delivery import SMS, check_delivery, sms_to_meter_customers
from vending.exceptions import VendingError
from vending.models import Meter, Token
from vending.services.audit import audit_record
from vending.services.issuing import Credit, Management, TokenOrder, meter_token_issue
from vending.sts import kwh_to_units

# kind → (management subclass, fixed value or None when staff give one)
ENGINEERING_KINDS: dict[str, tuple[int, int | None]] = {
    "clear_tamper": (5, 0),
    "clear_credit": (1, 0),  # register 0: the electricity credit register
    "set_power_limit": (0, None),  # watts
}
MAX_FREE_KWH = Decimal("1000")


@dataclass(frozen=True)
class IssuedToken:
    token: Token
    sms_count: int


def engineering_token_issue(
    *,
    actor: User,
    meter: Meter,
    kind: str,
    reason: str,
    delivery: str,
    watts: int | None = None,
    now: datetime | None = None,
) -> IssuedToken:
    """Issue one engineering token for `meter`; SMS it to the meter's customers or return it to show once."""
    require(actor, ISSUE_ENGINEERING_TOKEN)
    reason = require_reason(reason)
    check_delivery(delivery)
    if kind not in ENGINEERING_KINDS:
        raise VendingError(f"unknown engineering token {kind!r}")
    subclass, value = ENGINEERING_KINDS[kind]
    if value is None:
        if watts is None or watts <= 0:
            raise VendingError("A power limit needs a number of watts above 0.")
        value = watts
    now = now or timezone.now()
    with transaction.atomic():
        issued = meter_token_issue(
            meter_id=meter.pk,
            order=TokenOrder(token=Management(subclass=subclass, value=value, reason=reason)),
            now=now,
            issued_by=actor,
        )
        locked, [token] = issued.meter, issued.tokens
        tid = token.tid
        sms_count = 0
        if delivery == SMS:
            sms_count = sms_to_meter_customers(meter=locked, key="staff.engineering_token", token=token.grouped)
        audit_record(
            action="meter.engineering_token_issued",
            obj=locked,
            actor=actor,
            reason=reason,
            data={
                "kind": kind,
                "value": value,
                "tid": tid,
                "token_id": token.pk,
                "delivery": delivery,
                "sms_count": sms_count,
            },
        )
    return IssuedToken(token=token, sms_count=sms_count)


def free_token_issue(
    *,
    actor: User,
    meter: Meter,
    kwh: Decimal,
    reason: str,
    delivery: str,
    now: datetime | None = None,
    approval: Approval | None = None,
) -> IssuedToken:
    """A manual / free credit token (goodwill, compensation, a vend done by hand), with a reason.

    Above the free kWh one person may give a meter in a day it needs an approved request
    (approvals.free_token_request, decided by a second person)."""
    require(actor, ISSUE_FREE_TOKEN)
    reason = require_reason(reason)
    check_delivery(delivery)
    if not Decimal("0") < kwh <= MAX_FREE_KWH:
        raise VendingError(f"A free token is between 0.1 and {MAX_FREE_KWH} kWh.")
    now = now or timezone.now()
    if free_token_needs_approval(meter=meter, kwh=kwh, now=now):
        check_approved(approval, kind=Approval.Kind.FREE_TOKEN, meter=meter)
    units = kwh_to_units(str(kwh))
    with transaction.atomic():
        issued = meter_token_issue(
            meter_id=meter.pk,
            order=TokenOrder(token=Credit(units=units, kind=Token.Kind.FREE, reason=reason)),
            now=now,
            issued_by=actor,
        )
        locked, [token] = issued.meter, issued.tokens
        tid, credited = token.tid, token.units
        sms_count = 0
        if delivery == SMS:
            sms_count = sms_to_meter_customers(
                meter=locked, key="staff.free_token", token=token.grouped, kwh=f"{credited:.1f}"
            )
        audit_record(
            action="meter.free_token_issued",
            obj=locked,
            actor=actor,
            reason=reason,
            data={"kwh": str(credited), "tid": tid, "token_id": token.pk, "delivery": delivery, "sms_count": sms_count},
        )
    return IssuedToken(token=token, sms_count=sms_count)
