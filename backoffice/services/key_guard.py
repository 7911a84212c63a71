"""What makes a key change safe: checked before one meter, a batch or a campaign is moved to a target.

A key change that the meter accepts but that leaves it unable to take credit tokens is worse than none:
the next customer pays and the vend fails. So a target is refused unless the meter could vend on it:

- the supply group belongs to the meter's utility and sells in the meter's tariff currency;
- the target base date still has token IDs for MIN_TID_HEADROOM (base 1993 ran out on 2024-11-24);
- the target is a different key: not the meter's present configuration, not the same vending key
  under another revision, not a decoder key equal to the present one;
- neither the vending key nor the meter's new decoder key is a DES weak or semi-weak key;
- a trial vend passes: on a throw-away virtual meter in the present configuration, the key change
  tokens go in, then a credit token made under the target key is accepted (pre-coded changes too, at
  planning time, so a bad plan is refused now and not at the customer's next purchase).

docs/KEY_SAFETY.md explains each rule.
"""

from datetime import datetime, timedelta

from vending.exceptions import VendingError
from vending.models import Meter, SupplyGroup
from vending.selectors.vendability import base_date_problem
from vending.services.issuing import clears_tid_memory

__all__ = [
    "MIN_TID_HEADROOM",
    "UnsafeKeyChange",
    "base_date_problem",
    "group_problem",
    "meter_problem",
    "refuse_if",
    "trial_vend",
]
from vending.sts import MeterConfig, VirtualMeter, credit_token, derive_decoder_key, key_change_tokens, next_tid
from vending.sts import StsError as EngineError
from vending.sts.meter import Display
from vending.sts.weakkeys import weak_key_problem

# A target must leave this much TID range (whole minutes from its base date, 24 bits) after today.
MIN_TID_HEADROOM = timedelta(days=5 * 365)


class UnsafeKeyChange(VendingError):
    code = "unsafe_key_change"


def group_problem(*, group: SupplyGroup, now: datetime, base_date: int | None = None) -> str | None:
    """What makes `group` (at `base_date`, default its own) an unsafe target for any meter, or None."""
    if not group.is_active:
        return f"supply group {group} is not active"
    if not group.has_vending_key:
        return f"supply group {group.sgc} KRN {group.key_revision} has no vending key"
    problem = base_date_problem(
        base_date=group.base_date if base_date is None else base_date, now=now, headroom=MIN_TID_HEADROOM
    )
    if problem:
        return f"the target {problem}"
    weak = weak_key_problem(group.vending_key())
    if weak:
        return f"the vending key of supply group {group.sgc} KRN {group.key_revision} is unsafe: {weak}"
    return None


def meter_problem(*, meter: Meter, group: SupplyGroup) -> str | None:
    """What makes `group` the wrong target for this meter (utility, currency, same vending key), or None."""
    tariff = meter.tariff
    if group.utility_id != tariff.utility_id:
        return f"supply group {group.sgc} KRN {group.key_revision} belongs to another utility than meter {meter.drn}"
    if group.utility.currency != tariff.currency:
        return (
            f"supply group {group.sgc} KRN {group.key_revision} sells in {group.utility.currency}, "
            f"meter {meter.drn} in {tariff.currency}"
        )
    current = meter.supply_group
    if group.pk != current.pk and current.has_vending_key and group.vending_key() == current.vending_key():
        return "the target's vending key is the same as the present one: the key would not change"
    return None


def trial_vend(*, current: MeterConfig, new: MeterConfig, now: datetime) -> str | None:
    """Key change tokens then a 0.1 kWh credit token on a fresh virtual meter; None if the meter accepts both."""
    try:
        old_key, new_key = derive_decoder_key(current), derive_decoder_key(new)
        if old_key == new_key:
            return "the meter's decoder key would not change"
        weak = weak_key_problem(new_key)
        if weak:
            return f"the meter's new decoder key is unsafe: {weak}"
        virtual = VirtualMeter(current)
        rollover = clears_tid_memory(current.base_date, new.base_date)
        for section in key_change_tokens(current, new, ro=rollover, decoder_key=old_key, new_decoder_key=new_key):
            result = virtual.enter(section.digits)
            if result.display not in (Display.KCT1, Display.KCT2, Display.ACCEPT):
                return f"the trial meter refused a key change token: {result.message}"
        token = credit_token(new, units=1, tid=next_tid(now, new.base_date, None), decoder_key=new_key)
        result = virtual.enter(token.digits)
    except EngineError as exc:
        return f"the STS engine refused the trial vend: {exc}"
    if result.display != Display.ACCEPT or result.units_added != 1:
        return f"the trial meter refused a credit token on the new key: {result.message}"
    return None


def refuse_if(problem: str | None) -> None:
    if problem:
        raise UnsafeKeyChange(f"Key change refused: {problem}.")
