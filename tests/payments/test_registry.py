from __future__ import annotations

from types import SimpleNamespace

import pytest

from vending.payments.base import PaymentRequest
from vending.payments.daraja import DarajaProvider
from vending.payments.registry import get_provider
from vending.payments.sandbox import SandboxProvider
from vending.payments.tokencache import LocalCache
from vending.payments.waafipay import WaafiPayProvider

EMPTY = SimpleNamespace(SANDBOX_APPROVE_DELAY_SECONDS=0.5)
FULL = SimpleNamespace(
    DARAJA_BASE_URL="http://127.0.0.1:8101",
    DARAJA_CONSUMER_KEY="k",
    DARAJA_CONSUMER_SECRET="s",
    DARAJA_SHORTCODE="174379",
    DARAJA_PASSKEY="p",
    DARAJA_TRANSACTION_TYPE="CustomerPayBillOnline",
    WAAFIPAY_BASE_URL="http://127.0.0.1:8102",
    WAAFIPAY_MERCHANT_UID="M0910000",
    WAAFIPAY_API_USER_ID="1000000",
    WAAFIPAY_API_KEY="API-XXXXXXXXXXXXXXXX",
    WAAFIPAY_TIMEOUT_SECONDS=180.0,
    SANDBOX_APPROVE_DELAY_SECONDS=2.0,
)


@pytest.mark.parametrize("wallet", ["mpesa", "evcplus", "zaad", "sahal", "edahab"])
def test_no_credentials_means_sandbox(wallet):
    provider = get_provider(wallet, EMPTY, cache=LocalCache())
    assert isinstance(provider, SandboxProvider) and provider.approve_delay == 0.5


def test_mpesa_with_credentials_is_daraja():
    assert isinstance(get_provider("mpesa", FULL, cache=LocalCache()), DarajaProvider)


@pytest.mark.parametrize("wallet", ["evcplus", "zaad", "sahal"])
def test_somali_wallets_with_credentials_are_waafipay(wallet):
    provider = get_provider(wallet, FULL)
    assert isinstance(provider, WaafiPayProvider) and provider.config.timeout_seconds == 180.0


def test_unknown_wallet_is_refused():
    with pytest.raises(ValueError):
        get_provider("paypal", FULL)


def test_payment_request_validates_its_fields():
    from decimal import Decimal

    good = {
        "reference": "PUR7K2Q9XA",
        "amount": Decimal("5"),
        "currency": "KES",
        "phone": "+254711000111",
        "wallet": "mpesa",
    }
    PaymentRequest(**good)
    for bad in (
        {"reference": "TOO-LONG-REFERENCE"},
        {"amount": Decimal("0")},
        {"phone": "254711000111"},
        {"wallet": "cash"},
        {"callback_url": " https://x/ "},
    ):
        with pytest.raises(ValueError):
            PaymentRequest(**{**good, **bad})


def test_adapters_import_no_django():
    import subprocess
    import sys

    code = (
        "import sys, vending.payments, vending.sms, vending.phones, fakes.daraja, fakes.waafipay, "
        "fakes.africastalking; assert not any(m.startswith('django') for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_daraja_config_repr_hides_secrets():
    provider = get_provider("mpesa", FULL, cache=LocalCache())
    assert isinstance(provider, DarajaProvider)
    assert "'s'" not in repr(provider.config) and "passkey=" not in repr(provider.config)


def test_edahab_with_credentials_is_the_edahab_provider():
    from vending.payments.edahab import EdahabProvider

    settings = SimpleNamespace(
        EDAHAB_BASE_URL="http://127.0.0.1:8104",
        EDAHAB_API_KEY="k",
        EDAHAB_API_SECRET="s",
        EDAHAB_AGENT_CODE="712345",
        EDAHAB_TIMEOUT_SECONDS=60.0,
    )
    provider = get_provider("edahab", settings, cache=LocalCache())
    assert isinstance(provider, EdahabProvider) and provider.config.query_timeout == 15.0
    assert isinstance(get_provider("evcplus", settings, cache=LocalCache()), SandboxProvider)  # WaafiPay unset
