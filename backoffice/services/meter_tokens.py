"""Engineering tokens (clear tamper, clear credit, set power limit) and free credit tokens, issued by staff.

TIDs are allocated as the pipeline does in vending.services.tokens (it has no separate helper):
`next_tid(now, base_date, last_tid)` under a lock on the Meter row, so tokens for one meter never share
a TID. Every token is decoded back under the meter's key before it is stored.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from backoffice.models import Approval
from backoffice.permissions import ISSUE_ENGINEERING_TOKEN, ISSUE_FREE_TOKEN, require, require_reason
from backoffice.services.delivery import SMS, check_delivery, sms_to_meter_customers
from vending.exceptions import StsError, VendingError
from vending.models import Meter, Token
from vending.services.audit import audit_record
from vending.services.virtual_meters import meter_config
from vending.sts import StsError as EngineError
from vending.sts import (
    credit_token,
    decode_token,
    derive_decoder_key,
    kwh_to_units,
    management_token,
    next_tid,
    units_to_kwh,
)

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


def _lock_meter(meter: Meter) -> Meter:
    return Meter.objects.select_for_update().select_related("supply_group").get(pk=meter.pk)


def _take_tid(meter: Meter, base_date: int, now: datetime) -> int:
    tid = next_tid(now, base_date, meter.last_tid)
    meter.last_tid = tid
    meter.save(update_fields=["last_tid", "updated_at"])
    return tid


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
        locked = _lock_meter(meter)
        config = meter_config(meter=locked)
        key = derive_decoder_key(config)
        try:
            tid = _take_tid(locked, config.base_date, now)
            sts = management_token(
                config, subclass=subclass, value=value, tid=tid, rnd=secrets.randbelow(16), decoder_key=key
            )
            decoded = decode_token(sts.digits, config, decoder_key=key)
        except EngineError as exc:
            raise StsError(f"the STS engine refused: {exc}") from exc
        if (decoded.token_class, decoded.subclass, decoded.tid) != (2, subclass, tid):
            raise StsError("the new engineering token did not decode back to itself")
        token = Token.objects.create(
            meter=locked,
            kind=Token.Kind.ENGINEERING,
            token_class=sts.token_class,
            subclass=sts.subclass,
            tid=tid,
            digits=sts.digits,
            reason=reason[:255],
            issued_by=actor,
        )
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
    from backoffice.services import approvals

    if approvals.free_token_needs_approval(meter=meter, kwh=kwh, now=now):
        approvals.check_approved(approval, kind=Approval.Kind.FREE_TOKEN, meter=meter)
    units = kwh_to_units(str(kwh))
    with transaction.atomic():
        locked = _lock_meter(meter)
        config = meter_config(meter=locked)
        key = derive_decoder_key(config)
        try:
            tid = _take_tid(locked, config.base_date, now)
            sts = credit_token(config, units=units, tid=tid, rnd=secrets.randbelow(16), decoder_key=key)
            decoded = decode_token(sts.digits, config, decoder_key=key)
        except EngineError as exc:
            raise StsError(f"the STS engine refused: {exc}") from exc
        if decoded.token_class != 0 or decoded.tid != tid or decoded.units != units:
            raise StsError("the new credit token did not decode back to itself")
        credited = units_to_kwh(units)
        token = Token.objects.create(
            meter=locked,
            kind=Token.Kind.FREE,
            token_class=sts.token_class,
            subclass=sts.subclass,
            tid=tid,
            units=credited,
            digits=sts.digits,
            reason=reason[:255],
            issued_by=actor,
        )
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
