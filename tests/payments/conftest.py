from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from fakes._base import CallbackReceiver
from fakes.daraja import FakeDaraja
from fakes.waafipay import FAKE_API_KEY, FAKE_API_USER_ID, FAKE_MERCHANT_UID, FakeWaafiPay
from vending.payments.base import PaymentRequest
from vending.payments.daraja import DarajaConfig, DarajaProvider
from vending.payments.tokencache import LocalCache
from vending.payments.waafipay import WaafiPayConfig, WaafiPayProvider


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as server:
        yield server


@pytest.fixture
def fake_daraja() -> Iterator[FakeDaraja]:
    with FakeDaraja(callback_delay=0.0) as server:
        yield server


@pytest.fixture
def token_cache() -> LocalCache:
    return LocalCache()


def daraja_config(base_url: str, **overrides: object) -> DarajaConfig:
    values: dict[str, object] = {
        "base_url": base_url,
        "consumer_key": "fake-key",
        "consumer_secret": "fake-secret",
        "shortcode": "174379",
        "passkey": "fake-passkey",
        "read_timeout": 5.0,
    }
    values.update(overrides)
    return DarajaConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def daraja(fake_daraja: FakeDaraja, token_cache: LocalCache) -> DarajaProvider:
    return DarajaProvider(daraja_config(fake_daraja.base_url), cache=token_cache)


@pytest.fixture
def fake_waafipay() -> Iterator[FakeWaafiPay]:
    with FakeWaafiPay(slow_seconds=0.6) as server:
        yield server


def waafipay_config(base_url: str, timeout: float = 5.0) -> WaafiPayConfig:
    return WaafiPayConfig(
        base_url=base_url + "/asm",
        merchant_uid=FAKE_MERCHANT_UID,
        api_user_id=FAKE_API_USER_ID,
        api_key=FAKE_API_KEY,
        timeout_seconds=timeout,
    )


@pytest.fixture
def waafipay(fake_waafipay: FakeWaafiPay) -> WaafiPayProvider:
    return WaafiPayProvider(waafipay_config(fake_waafipay.base_url, timeout=0.3))


def mpesa_request(
    callback_url: str, phone: str = "+254711000111", amount: str = "500", reference: str = "PUR7K2Q9XA"
) -> PaymentRequest:
    return PaymentRequest(
        reference=reference,
        amount=Decimal(amount),
        currency="KES",
        phone=phone,
        wallet="mpesa",
        description="Electricity token",
        callback_url=callback_url,
    )


def evc_request(phone: str = "+252611111111", amount: str = "10.00", reference: str = "PUR000123A") -> PaymentRequest:
    return PaymentRequest(
        reference=reference,
        amount=Decimal(amount),
        currency="USD",
        phone=phone,
        wallet="evcplus",
        description="Electricity token meter 04123456789",
    )
