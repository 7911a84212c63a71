"""Can this meter be vended now, and if not, why: what an agent is told before taking the cash.

The partner API's view of `vending.selectors.vendability.meter_vendability` (the one check every channel
asks before any money is taken), in the API's stable codes: a blocked meter is METER_ID_BLOCKED, every
key or configuration problem (no vending key, another utility's or currency's supply group, a base date
out of token IDs) is METER_KEY_INVALID. Staff see the detail; the reason given to an agent stays general.
"""

from dataclasses import dataclass
from datetime import datetime

from vending.models import Meter
from vending.selectors.vendability import BLOCKED, NOT_FOUND, meter_vendability


@dataclass(frozen=True)
class VendCheck:
    can_vend: bool
    code: str  # "" when it can; METER_ID_BLOCKED or METER_KEY_INVALID otherwise
    reason: str


def meter_vend_check(*, meter: Meter, now: datetime | None = None) -> VendCheck:
    verdict = meter_vendability(meter=meter, now=now)
    if verdict.ok:
        return VendCheck(True, "", "")
    if verdict.code in (BLOCKED, NOT_FOUND):
        return VendCheck(False, "METER_ID_BLOCKED", f"Meter {meter.drn} is blocked: it cannot be sold now.")
    return VendCheck(
        False,
        "METER_KEY_INVALID",
        f"Meter {meter.drn} cannot be sold now (its key configuration); contact the utility.",
    )
