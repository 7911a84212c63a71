"""The sandbox provider: the default when no credentials are configured (docs/DESIGN.md rule 8).

It is stateless and in-process: no HTTP, no storage. It behaves like Daraja (callback style):
``initiate`` returns PENDING plus ``simulated_callbacks`` that the task layer delivers later through the
normal ``parse_callback`` path. The provider reference encodes the scenario, the amount and the initiation
time, so ``query_status`` answers deterministically from the reference alone (a sweep query recovers a
lost callback).

Magic payer numbers (the last digit picks the scenario; Kenyan and Somali forms behave the same):

=====================================  ===============================================================
``+254700000001`` / ``+252610000001``  declined: cancelled by the payer (like Daraja 1032)
``+254700000002`` / ``+252610000002``  declined: insufficient funds
``+254700000003`` / ``+252610000003``  timeout: no callback ever; ``query_status`` says APPROVED
``+254700000004`` / ``+252610000004``  late callback: approved after ``late_delay`` (120 s); query says
                                       PENDING until then, APPROVED after
``+254700000005`` / ``+252610000005``  duplicate callback: the same approval delivered twice
``+254700000006`` / ``+252610000006``  wrong amount: approved, but the callback amount is 1 less
``+254700000007`` / ``+252610000007``  declined: wrong PIN
``+254700000008`` / ``+252610000008``  declined: payer unreachable
``+254700000009`` / ``+252610000009``  no answer ever: no callback, query stays PENDING (staff review)
``+254700000000`` / ``+252610000000``  provider down: ``initiate`` raises ProviderUnavailable
=====================================  ===============================================================

Any other number is approved after ``approve_delay`` seconds (``SANDBOX_APPROVE_DELAY_SECONDS``, 2 s).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .base import (
    CallbackEvent,
    Capabilities,
    FailureReason,
    InitiateResult,
    InvalidCallback,
    Outcome,
    PaymentProvider,
    PaymentRequest,
    ProviderUnavailable,
    SimulatedCallback,
    StatusResult,
)

MAGIC_PREFIXES = ("+25470000000", "+25261000000")


class Scenario:
    APPROVE = "approve"
    CANCELLED = "cancelled"
    INSUFFICIENT = "insufficient"
    NO_CALLBACK = "no_callback"
    LATE = "late"
    DUPLICATE = "duplicate"
    WRONG_AMOUNT = "wrong_amount"
    WRONG_PIN = "wrong_pin"
    UNREACHABLE = "unreachable"
    NEVER = "never"
    DOWN = "down"


MAGIC_SCENARIOS: dict[str, str] = {
    "0": Scenario.DOWN,
    "1": Scenario.CANCELLED,
    "2": Scenario.INSUFFICIENT,
    "3": Scenario.NO_CALLBACK,
    "4": Scenario.LATE,
    "5": Scenario.DUPLICATE,
    "6": Scenario.WRONG_AMOUNT,
    "7": Scenario.WRONG_PIN,
    "8": Scenario.UNREACHABLE,
    "9": Scenario.NEVER,
}
# One letter per scenario inside the provider reference.
_CODES: dict[str, str] = {
    Scenario.APPROVE: "A",
    Scenario.CANCELLED: "C",
    Scenario.INSUFFICIENT: "I",
    Scenario.NO_CALLBACK: "T",
    Scenario.LATE: "L",
    Scenario.DUPLICATE: "D",
    Scenario.WRONG_AMOUNT: "W",
    Scenario.WRONG_PIN: "P",
    Scenario.UNREACHABLE: "U",
    Scenario.NEVER: "N",
}
_SCENARIO_BY_CODE = {code: scenario for scenario, code in _CODES.items()}
_DECLINES: dict[str, FailureReason] = {
    Scenario.CANCELLED: FailureReason.CANCELLED,
    Scenario.INSUFFICIENT: FailureReason.INSUFFICIENT_FUNDS,
    Scenario.WRONG_PIN: FailureReason.WRONG_PIN,
    Scenario.UNREACHABLE: FailureReason.UNREACHABLE,
}
# SBX-<code>-<our reference>-<amount in cents>-<initiated at, epoch seconds>
_REF_RE = re.compile(r"^SBX-([A-Z])-([A-Za-z0-9]{1,12})-(\d+)-(\d+)$")


def scenario_for(phone: str) -> str:
    if len(phone) == 13 and phone[:-1] in MAGIC_PREFIXES and phone[-1].isdigit():
        return MAGIC_SCENARIOS[phone[-1]]
    return Scenario.APPROVE


@dataclass(frozen=True)
class _Decoded:
    scenario: str
    reference: str
    amount: Decimal
    initiated_at: int


def _decode(provider_reference: str) -> _Decoded:
    match = _REF_RE.match(provider_reference)
    if not match or match.group(1) not in _SCENARIO_BY_CODE:
        raise InvalidCallback("not a sandbox reference")
    return _Decoded(
        _SCENARIO_BY_CODE[match.group(1)], match.group(2), Decimal(match.group(3)) / 100, int(match.group(4))
    )


def _receipt(provider_reference: str) -> str:
    return "SBX" + hashlib.sha256(provider_reference.encode()).hexdigest()[:7].upper()


class SandboxProvider(PaymentProvider):
    name = "sandbox"
    capabilities = Capabilities(supports_callback=True, supports_query=True, holds_funds=False, supports_refund=False)

    def __init__(
        self,
        *,
        approve_delay: float = 2.0,
        late_delay: float = 120.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.approve_delay = approve_delay
        self.late_delay = late_delay  # longer than the sweep threshold, on purpose
        self._clock = clock

    def initiate(self, request: PaymentRequest) -> InitiateResult:
        scenario = scenario_for(request.phone)
        if scenario == Scenario.DOWN:
            raise ProviderUnavailable("sandbox: simulated provider outage")
        cents = int((request.amount * 100).to_integral_value())
        ref = f"SBX-{_CODES[scenario]}-{request.reference}-{cents}-{int(self._clock())}"
        decoded = _decode(ref)
        callbacks: tuple[SimulatedCallback, ...] = ()
        if scenario in _DECLINES or scenario in (Scenario.APPROVE, Scenario.WRONG_AMOUNT):
            callbacks = (SimulatedCallback(self.approve_delay, _callback_body(ref, decoded, request.phone)),)
        elif scenario == Scenario.DUPLICATE:
            body = _callback_body(ref, decoded, request.phone)
            callbacks = (SimulatedCallback(self.approve_delay, body), SimulatedCallback(self.approve_delay + 1.0, body))
        elif scenario == Scenario.LATE:
            callbacks = (SimulatedCallback(self.late_delay, _callback_body(ref, decoded, request.phone)),)
        return InitiateResult(
            outcome=Outcome.PENDING,
            provider_reference=ref,
            provider_message=f"sandbox scenario {scenario}",
            raw={"sandbox": True, "scenario": scenario},
            simulated_callbacks=callbacks,
        )

    def parse_callback(self, headers: Mapping[str, str], body: bytes) -> CallbackEvent:
        try:
            data = json.loads(body)
            ref = str(data["provider_reference"])
            outcome = Outcome(data["outcome"])
            amount = Decimal(str(data["amount"])) if data.get("amount") is not None else None
            reason = FailureReason(data["failure_reason"]) if data.get("failure_reason") else None
        except (ValueError, TypeError, KeyError, InvalidOperation) as exc:
            raise InvalidCallback(f"not a sandbox callback: {type(exc).__name__}") from exc
        decoded = _decode(ref)
        if outcome not in (Outcome.APPROVED, Outcome.DECLINED):
            raise InvalidCallback("sandbox callbacks are final")
        return CallbackEvent(
            outcome=outcome,
            provider_reference=ref,
            receipt=str(data.get("receipt", "")),
            amount=amount,
            failure_reason=reason,
            phone=str(data.get("phone", "")),
            reference=decoded.reference,
            provider_message="sandbox callback",
            raw=data,
        )

    def query_status(self, provider_reference: str, request: PaymentRequest) -> StatusResult:
        decoded = _decode(provider_reference)
        scenario = decoded.scenario
        if scenario in _DECLINES:
            return StatusResult(
                outcome=Outcome.DECLINED,
                provider_reference=provider_reference,
                failure_reason=_DECLINES[scenario],
                provider_message="sandbox query",
            )
        pending = scenario == Scenario.NEVER or (
            scenario == Scenario.LATE and self._clock() < decoded.initiated_at + self.late_delay
        )
        if pending:
            return StatusResult(
                outcome=Outcome.PENDING,
                provider_reference=provider_reference,
                provider_message="sandbox: the transaction is being processed",
            )
        # Like the Daraja query: no receipt and no amount.
        return StatusResult(
            outcome=Outcome.APPROVED, provider_reference=provider_reference, provider_message="sandbox query"
        )


def _callback_body(ref: str, decoded: _Decoded, phone: str) -> bytes:
    if decoded.scenario in _DECLINES:
        payload = {
            "provider_reference": ref,
            "outcome": Outcome.DECLINED.value,
            "failure_reason": _DECLINES[decoded.scenario].value,
            "amount": None,
            "phone": phone,
        }
    else:
        amount = decoded.amount - 1 if decoded.scenario == Scenario.WRONG_AMOUNT else decoded.amount
        payload = {
            "provider_reference": ref,
            "outcome": Outcome.APPROVED.value,
            "failure_reason": None,
            "amount": str(amount),
            "receipt": _receipt(ref),
            "phone": phone,
        }
    return json.dumps(payload, sort_keys=True).encode()
