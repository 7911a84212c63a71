"""Key changes: move a meter to a new supply group / key revision, tariff index or base date.

Two ways, as the utility chooses:
- pre-coded: the meter's pending_* fields are set and the pipeline's next vend carries the key change
  tokens ahead of the credit token (vending.services.tokens);
- at once: the key change tokens are made now by `vending.services.issuing.meter_token_issue` (the
  issue path of every token: under the meter's lock and current key, each typed into a virtual meter
  before it is stored), SMSed to the meter's customers or shown once; the meter row moves to the new key.

Both modes first pass `key_change_configs` (key_guard's checks and a trial vend). A base date change
(1993 → 2014, the 2024 TID rollover) sets the RO bit and restarts the meter's TID count. A campaign
changes many meters in a few writes (backoffice.services.campaign_plan / campaign_chunks).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from backoffice.permissions import CHANGE_METER_KEY, require, require_reason
from backoffice.services import key_guard
from backoffice.services.delivery import SMS, check_delivery, sms_to_meter_customers
from vending.exceptions import StsError, VendingError
from vending.models import Meter, SupplyGroup, Token
from vending.services.audit import audit_record
from vending.services.issuing import KEY_FIELDS, KeyChange, TokenOrder, meter_lock, meter_token_issue
from vending.services.virtual_meters import meter_config
from vending.sts import MeterConfig
from vending.sts import StsError as EngineError

PRECODE = "precode"
NOW = "now"
MODES = (PRECODE, NOW)


class AlreadyAtTarget(VendingError):
    code = "already_at_target"


@dataclass(frozen=True)
class KeyChangeTarget:
    supply_group: SupplyGroup
    tariff_index: int | None = None  # None: keep the meter's
    base_date: int | None = None  # None: the target supply group's base date

    def tariff_index_for(self, meter: Meter) -> int:
        return meter.tariff_index if self.tariff_index is None else self.tariff_index

    def base_date_for(self, meter: Meter) -> int:
        return self.supply_group.base_date if self.base_date is None else self.base_date

    def reached_by(self, meter: Meter) -> bool:
        return (
            meter.supply_group_id == self.supply_group.pk
            and meter.key_revision == self.supply_group.key_revision
            and meter.tariff_index == self.tariff_index_for(meter)
            and meter.base_date == self.base_date_for(meter)
        )


class ConfigCache:
    """STS configs for many meters, decrypting each supply group's vending key only once."""

    def __init__(self) -> None:
        self._templates: dict[int, MeterConfig] = {}

    def config(self, meter: Meter, *, group: SupplyGroup, ti: int, krn: int, base_date: int) -> MeterConfig:
        template = self._templates.get(group.pk)
        if template is None:
            template = meter_config(
                meter=meter, supply_group=group, tariff_index=ti, key_revision=krn, base_date=base_date
            )
            self._templates[group.pk] = template
            return template
        return template.replace(pan=meter.pan, ti=ti, krn=krn, kt=meter.key_type, base_date=base_date)

    def current(self, meter: Meter) -> MeterConfig:
        return self.config(
            meter, group=meter.supply_group, ti=meter.tariff_index, krn=meter.key_revision, base_date=meter.base_date
        )

    def target(self, meter: Meter, target: KeyChangeTarget) -> MeterConfig:
        group = target.supply_group
        return self.config(
            meter,
            group=group,
            ti=target.tariff_index_for(meter),
            krn=group.key_revision,
            base_date=target.base_date_for(meter),
        )


def _describe(config: MeterConfig) -> dict[str, Any]:
    return {"sgc": config.sgc, "krn": config.krn, "ti": config.ti, "base_date": config.base_date}


def key_change_configs(*, meter: Meter, target: KeyChangeTarget, now: datetime) -> tuple[MeterConfig, MeterConfig]:
    """The meter's present configuration and the target's, once the change is known to be safe.

    Refuses (UnsafeKeyChange) a target the meter could not vend on afterwards (key_guard), checked by a
    trial vend in both modes: a pre-coded change is refused now, not at the customer's next purchase."""
    if target.reached_by(meter):
        raise AlreadyAtTarget(f"Meter {meter.drn} already has this key.")
    group = target.supply_group
    for needed in (meter.supply_group, group):
        if not needed.has_vending_key:
            raise VendingError(f"Supply group {needed.sgc} KRN {needed.key_revision} has no vending key.")
    wall = timezone.localtime(now)
    key_guard.refuse_if(key_guard.group_problem(group=group, now=wall, base_date=target.base_date_for(meter)))
    key_guard.refuse_if(key_guard.meter_problem(meter=meter, group=group))
    cache = ConfigCache()
    try:
        current = cache.current(meter)
        new = cache.target(meter, target)
    except EngineError as exc:
        raise StsError(f"the STS engine refused: {exc}") from exc
    key_guard.refuse_if(key_guard.trial_vend(current=current, new=new, now=wall))
    return current, new


def sms_key_change_tokens(*, meter: Meter, tokens: list[Token], required: bool = True) -> int:
    """The tokens two at a time ("enter A then B"), one SMS per pair, to each of the meter's customers.

    `required`: refuse a meter that no customer saved (one meter, staff chose SMS); a campaign passes
    False and leaves such meters' stored tokens to staff."""
    pairs = [tokens[i : i + 2] for i in range(0, len(tokens), 2)]
    return sum(
        sms_to_meter_customers(
            meter=meter,
            key="staff.key_change",
            required=required,
            n=n,
            total=len(pairs),
            first=pair[0].grouped,
            second=pair[1].grouped,
        )
        for n, pair in enumerate(pairs, 1)
    )


@dataclass(frozen=True)
class KeyChangeResult:
    meter: Meter
    mode: str
    tokens: list[Token]
    sms_count: int


def meter_key_change(
    *,
    actor: User,
    meter: Meter,
    target: KeyChangeTarget,
    mode: str,
    delivery: str,
    reason: str,
    now: datetime | None = None,
) -> KeyChangeResult:
    """Key change for one meter, pre-coded or at once (see the module docstring)."""
    require(actor, CHANGE_METER_KEY)
    reason = require_reason(reason)
    check_delivery(delivery)
    if mode not in MODES:
        raise VendingError(f"unknown key change mode {mode!r}")
    now = now or timezone.now()
    with transaction.atomic():
        if mode == PRECODE:
            # No token now: the pending_* fields wait for the meter's next vend (vending.services.tokens).
            locked = meter_lock(meter_id=meter.pk)
            current, new = key_change_configs(meter=locked, target=target, now=now)
            locked.pending_supply_group = target.supply_group
            locked.pending_tariff_index, locked.pending_key_revision = new.ti, new.krn
            locked.pending_base_date = new.base_date
            locked.save(update_fields=KEY_FIELDS)
            tokens: list[Token] = []
            before, after = _describe(current), _describe(new)
        else:

            def order(locked: Meter) -> TokenOrder:
                _, new = key_change_configs(meter=locked, target=target, now=now)
                return TokenOrder(key_change=KeyChange(supply_group=target.supply_group, config=new, reason=reason))

            issued = meter_token_issue(meter_id=meter.pk, order=order, now=now, issued_by=actor)
            locked, tokens = issued.meter, issued.tokens
            before = _describe(issued.before)
            after = {**_describe(issued.after), "rollover": issued.rollover}
        sms_count = sms_key_change_tokens(meter=locked, tokens=tokens) if tokens and delivery == SMS else 0
        audit_record(
            action="meter.key_change_precoded" if mode == PRECODE else "meter.key_changed",
            obj=locked,
            actor=actor,
            reason=reason,
            before=before,
            after=after,
            data={"mode": mode, "delivery": delivery, "token_ids": [t.pk for t in tokens], "sms_count": sms_count},
        )
    return KeyChangeResult(meter=locked, mode=mode, tokens=tokens, sms_count=sms_count)


def key_change_target_choices(*, meters: Any, now: datetime | None = None) -> Any:
    """The supply groups offered as targets for `meters` (a queryset): those of the meters' utilities
    and currencies whose base date still has token IDs left (key_guard). The services check again."""
    wall = timezone.localtime(now or timezone.now())
    pairs = set(meters.values_list("tariff__utility_id", "tariff__currency").distinct())
    groups = SupplyGroup.objects.filter(is_active=True, vending_key_encrypted__isnull=False).select_related("utility")
    keep = [
        g.pk
        for g in groups
        if (g.utility_id, g.utility.currency) in pairs
        and key_guard.base_date_problem(base_date=g.base_date, now=wall, headroom=key_guard.MIN_TID_HEADROOM) is None
    ]
    return SupplyGroup.objects.filter(pk__in=keep)


def limit_key_change_targets(form: Any, meters: Any) -> None:
    """Narrow a KeyChangeForm's supply group choices to key_change_target_choices(meters)."""
    form.fields["supply_group"].queryset = key_change_target_choices(meters=meters)
