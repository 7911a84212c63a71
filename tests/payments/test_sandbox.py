"""The sandbox provider: every magic number reaches its documented outcome, statelessly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from vending.payments.base import FailureReason, InvalidCallback, Outcome, PaymentRequest, ProviderUnavailable
from vending.payments.sandbox import SandboxProvider


class Clock:
    def __init__(self, now: float = 1_760_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def request(phone: str, amount: str = "500") -> PaymentRequest:
    wallet = "mpesa" if phone.startswith("+254") else "evcplus"
    return PaymentRequest(
        reference="PUR7K2Q9XA",
        amount=Decimal(amount),
        currency="KES",
        phone=phone,
        wallet=wallet,
        callback_url="http://127.0.0.1/cb/",
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock: Clock) -> SandboxProvider:
    return SandboxProvider(approve_delay=2.0, late_delay=120.0, clock=clock)


def deliver(sandbox: SandboxProvider, phone: str):
    result = sandbox.initiate(request(phone))
    assert result.outcome is Outcome.PENDING
    events = [sandbox.parse_callback(cb.headers, cb.body) for cb in result.simulated_callbacks]
    return result, events


def test_any_ordinary_number_is_approved_after_the_delay(sandbox):
    result, events = deliver(sandbox, "+254711000111")
    assert [cb.delay_seconds for cb in result.simulated_callbacks] == [2.0]
    (event,) = events
    assert event.outcome is Outcome.APPROVED and event.amount == Decimal("500")
    assert event.provider_reference == result.provider_reference and event.receipt.startswith("SBX")
    assert event.reference == "PUR7K2Q9XA"


@pytest.mark.parametrize("prefix", ["+25470000000", "+25261000000"])
@pytest.mark.parametrize(
    ("digit", "reason"),
    [
        ("1", FailureReason.CANCELLED),
        ("2", FailureReason.INSUFFICIENT_FUNDS),
        ("7", FailureReason.WRONG_PIN),
        ("8", FailureReason.UNREACHABLE),
    ],
)
def test_magic_numbers_decline_with_their_reason(sandbox, prefix, digit, reason):
    result, (event,) = deliver(sandbox, prefix + digit)
    assert event.outcome is Outcome.DECLINED and event.failure_reason is reason
    status = sandbox.query_status(result.provider_reference, request(prefix + digit))
    assert status.outcome is Outcome.DECLINED and status.failure_reason is reason


@pytest.mark.parametrize("phone", ["+254700000003", "+252610000003"])
def test_timeout_number_sends_no_callback_but_query_says_approved(sandbox, phone):
    result, events = deliver(sandbox, phone)
    assert events == []
    assert sandbox.query_status(result.provider_reference, request(phone)).outcome is Outcome.APPROVED


def test_late_callback_arrives_after_the_sweep_threshold(sandbox, clock):
    result, (event,) = deliver(sandbox, "+254700000004")
    assert result.simulated_callbacks[0].delay_seconds == 120.0
    assert event.outcome is Outcome.APPROVED
    assert sandbox.query_status(result.provider_reference, request("+254700000004")).outcome is Outcome.PENDING
    clock.now += 121
    assert sandbox.query_status(result.provider_reference, request("+254700000004")).outcome is Outcome.APPROVED


def test_duplicate_number_delivers_two_identical_callbacks(sandbox):
    result, events = deliver(sandbox, "+252610000005")
    assert len(result.simulated_callbacks) == 2
    assert result.simulated_callbacks[0].body == result.simulated_callbacks[1].body
    assert events[0] == events[1]


def test_wrong_amount_number_pays_less_than_asked(sandbox):
    _, (event,) = deliver(sandbox, "+254700000006")
    assert event.outcome is Outcome.APPROVED and event.amount == Decimal("499")


def test_never_answering_number_stays_pending(sandbox, clock):
    result, events = deliver(sandbox, "+254700000009")
    clock.now += 10_000
    assert events == []
    assert sandbox.query_status(result.provider_reference, request("+254700000009")).outcome is Outcome.PENDING


def test_outage_number_raises_provider_unavailable(sandbox):
    with pytest.raises(ProviderUnavailable):
        sandbox.initiate(request("+254700000000"))


def test_query_is_deterministic_from_the_reference_alone(clock):
    first = SandboxProvider(clock=clock).initiate(request("+254700000003"))
    other_process = SandboxProvider(clock=clock)
    assert other_process.query_status(first.provider_reference, request("+254700000003")).outcome is Outcome.APPROVED


def test_similar_but_not_magic_numbers_approve(sandbox):
    _, (event,) = deliver(sandbox, "+254700000011")
    assert event.outcome is Outcome.APPROVED


def test_garbage_sandbox_callback_is_rejected(sandbox):
    for body in (b"junk", b"{}", b'{"provider_reference": "SBX-Z-X-1-1", "outcome": "approved"}'):
        with pytest.raises(InvalidCallback):
            sandbox.parse_callback({}, body)


def test_sandbox_behaves_like_daraja(sandbox):
    caps = sandbox.capabilities
    assert caps.supports_callback and caps.supports_query and not caps.holds_funds
