"""Key changes: move a meter to a new supply group / key revision, tariff index or base date.

Two ways, as the utility chooses:
- pre-coded: the meter's pending_* fields are set and the pipeline's next vend carries the key change
  tokens ahead of the credit token (vending.services.tokens);
- at once: the key change tokens are made now (under the meter's current key), decoded back, stored,
  and SMSed to the meter's customers or shown once; the meter row moves to the new key immediately.

A base date change (1993 → 2014, the 2024 TID rollover) sets the RO bit and restarts the meter's TID
count. The per-meter work is in `plan_key_change` so a campaign can apply many meters in one write.
"""

from dataclasses import dataclass, field
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
from vending.services.virtual_meters import meter_config
from vending.sts import MeterConfig, decode_token, derive_decoder_key, key_change_tokens
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


@dataclass
class KeyChangePlan:
    """What applying one meter's key change writes: meter fields, token rows, audit before/after."""

    meter: Meter
    tokens: list[Token] = field(default_factory=list)
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


def plan_key_change(
    *,
    meter: Meter,
    target: KeyChangeTarget,
    mode: str,
    cache: ConfigCache,
    actor: User | None,
    reason: str,
    now: datetime | None = None,
) -> KeyChangePlan:
    """Change `meter` in memory (the caller saves it) and build its unsaved key change tokens.

    Refuses (UnsafeKeyChange) a target the meter could not vend on afterwards (key_guard), checked by
    a trial vend in both modes: a pre-coded change is refused now, not at the customer's next purchase."""
    if target.reached_by(meter):
        raise AlreadyAtTarget(f"Meter {meter.drn} already has this key.")
    group = target.supply_group
    for needed in (meter.supply_group, group):
        if not needed.has_vending_key:
            raise VendingError(f"Supply group {needed.sgc} KRN {needed.key_revision} has no vending key.")
    wall = timezone.localtime(now or timezone.now())
    key_guard.refuse_if(key_guard.group_problem(group=group, now=wall, base_date=target.base_date_for(meter)))
    key_guard.refuse_if(key_guard.meter_problem(meter=meter, group=group))
    try:
        current = cache.current(meter)
        new = cache.target(meter, target)
    except EngineError as exc:
        raise StsError(f"the STS engine refused: {exc}") from exc
    key_guard.refuse_if(key_guard.trial_vend(current=current, new=new, now=wall))
    plan = KeyChangePlan(meter=meter, before=_describe(current), after=_describe(new))
    if mode == PRECODE:
        meter.pending_supply_group = group
        meter.pending_tariff_index = new.ti
        meter.pending_key_revision = new.krn
        meter.pending_base_date = new.base_date
        return plan
    rollover = new.base_date != current.base_date
    try:
        old_key = derive_decoder_key(current)
        sections = key_change_tokens(
            current, new, ro=rollover, decoder_key=old_key, new_decoder_key=derive_decoder_key(new)
        )
        for section in sections:
            decoded = decode_token(section.digits, current, decoder_key=old_key)
            if (decoded.token_class, decoded.subclass) != (section.token_class, section.subclass):
                raise StsError("a key change token did not decode back to itself")
    except EngineError as exc:
        raise StsError(f"the STS engine refused: {exc}") from exc
    plan.tokens = [
        Token(
            meter=meter,
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
    plan.after["rollover"] = rollover
    meter.supply_group = group
    meter.key_revision = new.krn
    meter.tariff_index = new.ti
    meter.base_date = new.base_date
    meter.pending_supply_group = None
    meter.pending_tariff_index = meter.pending_key_revision = meter.pending_base_date = None
    if rollover:
        meter.last_tid = None  # the meter cleared its TID memory; minutes count from the new base date
    return plan


METER_FIELDS = [
    "supply_group",
    "key_revision",
    "tariff_index",
    "base_date",
    "last_tid",
    "pending_supply_group",
    "pending_tariff_index",
    "pending_key_revision",
    "pending_base_date",
    "updated_at",
]


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
        locked = Meter.objects.select_for_update().select_related("supply_group").get(pk=meter.pk)
        plan = plan_key_change(
            meter=locked, target=target, mode=mode, cache=ConfigCache(), actor=actor, reason=reason, now=now
        )
        locked.updated_at = now
        locked.save(update_fields=METER_FIELDS)
        tokens = [_save(t) for t in plan.tokens]
        sms_count = sms_key_change_tokens(meter=locked, tokens=tokens) if tokens and delivery == SMS else 0
        audit_record(
            action="meter.key_change_precoded" if mode == PRECODE else "meter.key_changed",
            obj=locked,
            actor=actor,
            reason=reason,
            before=plan.before,
            after=plan.after,
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


def _save(token: Token) -> Token:
    token.save()
    return token
