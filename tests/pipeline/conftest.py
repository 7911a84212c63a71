"""Pipeline test set-up: eager Celery (tasks run inline on commit), sandbox payments, console SMS."""

from decimal import Decimal

import pytest

from tests.factories import (
    current_base_date,
    make_customer,
    make_flat_tariff,
    make_meter,
    make_supply_group,
    make_utility,
)


@pytest.fixture
def kenya_meter(db):
    utility = make_utility("KE", "KES")
    group = make_supply_group(utility, base_date=current_base_date())
    tariff = make_flat_tariff(utility, price="20", min_purchase=Decimal("10"), max_purchase=Decimal("10000"))
    return make_meter(supply_group=group, tariff=tariff)


@pytest.fixture
def somali_meter(db):
    utility = make_utility("SO", "USD")
    group = make_supply_group(utility, dkga="04", ea="11", base_date=current_base_date())
    tariff = make_flat_tariff(
        utility, price="0.5", currency="USD", min_purchase=Decimal("1"), max_purchase=Decimal("500")
    )
    return make_meter(supply_group=group, tariff=tariff)


@pytest.fixture
def customer(db):
    return make_customer("+254711000111")


@pytest.fixture
def fake_daraja(settings, eager):
    """Fake Daraja configured as the M-Pesa provider; its callbacks land in `receiver` for the test to post."""
    from fakes._base import CallbackReceiver
    from fakes.daraja import FAKE_CONSUMER_KEY, FAKE_CONSUMER_SECRET, FAKE_PASSKEY, FAKE_SHORTCODE, FakeDaraja

    daraja, receiver = FakeDaraja().start(), CallbackReceiver().start()
    settings.DARAJA_BASE_URL = daraja.base_url
    settings.DARAJA_CONSUMER_KEY, settings.DARAJA_CONSUMER_SECRET = FAKE_CONSUMER_KEY, FAKE_CONSUMER_SECRET
    settings.DARAJA_SHORTCODE, settings.DARAJA_PASSKEY = FAKE_SHORTCODE, FAKE_PASSKEY
    settings.PUBLIC_BASE_URL = receiver.base_url
    daraja.receiver = receiver
    yield daraja
    daraja.stop()
    receiver.stop()


@pytest.fixture
def fake_waafipay(settings, eager):
    from fakes.waafipay import FAKE_API_KEY, FAKE_API_USER_ID, FAKE_MERCHANT_UID, FakeWaafiPay

    fake = FakeWaafiPay(slow_seconds=30).start()
    settings.WAAFIPAY_BASE_URL = fake.base_url
    settings.WAAFIPAY_MERCHANT_UID, settings.WAAFIPAY_API_USER_ID = FAKE_MERCHANT_UID, FAKE_API_USER_ID
    settings.WAAFIPAY_API_KEY = FAKE_API_KEY
    settings.WAAFIPAY_TIMEOUT_SECONDS = 0.3
    yield fake
    fake.stop()


@pytest.fixture
def fake_edahab(settings, eager):
    """Fake e-Dahab configured as the "edahab" wallet's provider, with short client timeouts."""
    from fakes.edahab import FAKE_EDAHAB_AGENT, FAKE_EDAHAB_API_KEY, FAKE_EDAHAB_SECRET, FakeEdahab

    fake = FakeEdahab(slow_seconds=2.0).start()
    settings.EDAHAB_BASE_URL = f"{fake.base_url}/api/api"
    settings.EDAHAB_API_KEY, settings.EDAHAB_API_SECRET = FAKE_EDAHAB_API_KEY, FAKE_EDAHAB_SECRET
    settings.EDAHAB_AGENT_CODE = FAKE_EDAHAB_AGENT
    settings.EDAHAB_TIMEOUT_SECONDS = 0.5
    yield fake
    fake.stop()


class DispatchSpy:
    """Records every unit of work vending.pipeline enqueues; the kinds in `lost` are dropped (as if the
    broker had lost the message), the others are enqueued as usual (eager: run at once)."""

    def __init__(self, real) -> None:
        self.real = real
        self.lost: set[str] = set()
        self.calls: list[tuple[str, tuple]] = []

    def __call__(self, work, *args, countdown: float = 0) -> bool:
        self.calls.append((str(work), args))
        if str(work) in self.lost:
            return False
        return self.real(work, *args, countdown=countdown)

    def of(self, work: str) -> list[tuple]:
        return [args for kind, args in self.calls if kind == work]


@pytest.fixture
def dispatched(monkeypatch):
    from vending import pipeline

    spy = DispatchSpy(pipeline.dispatch)
    monkeypatch.setattr(pipeline, "dispatch", spy)
    return spy
