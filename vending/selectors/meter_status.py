"""Can this meter be vended now, and if not, why: what an agent is told before taking the cash.

(A small check of its own so the partner API and any other channel ask the same question.)
"""

from dataclasses import dataclass

from vending.models import Meter


@dataclass(frozen=True)
class VendCheck:
    can_vend: bool
    code: str  # "" when it can; METER_ID_BLOCKED or METER_KEY_INVALID otherwise
    reason: str

    def raise_if_refused(self) -> None:
        if not self.can_vend:
            from vending.services.agents import AgentError

            raise AgentError(self.reason, code=self.code, field="meter")


def meter_vend_check(*, meter: Meter) -> VendCheck:
    """Blocked or decommissioned meters and meters whose key (or pending new key) is missing cannot be vended."""
    if meter.status != Meter.Status.ACTIVE:
        return VendCheck(False, "METER_ID_BLOCKED", f"Meter {meter.drn} is {meter.get_status_display().lower()}.")
    if not meter.supply_group.has_vending_key:
        return VendCheck(False, "METER_KEY_INVALID", "The meter's supply group has no vending key.")
    pending = meter.pending_supply_group
    if pending is not None and not pending.has_vending_key:
        return VendCheck(False, "METER_KEY_INVALID", "The meter's pending key change has no vending key.")
    return VendCheck(True, "", "")
