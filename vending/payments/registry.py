"""Choose the provider for a wallet from a settings-like object (docs/DESIGN.md rule 8: sandbox by default).

``settings_obj`` is anything with the attributes below (``django.conf.settings`` or a SimpleNamespace):
DARAJA_BASE_URL, DARAJA_CONSUMER_KEY, DARAJA_CONSUMER_SECRET, DARAJA_SHORTCODE, DARAJA_PASSKEY,
DARAJA_TRANSACTION_TYPE, DARAJA_TILL_NUMBER (optional), WAAFIPAY_BASE_URL, WAAFIPAY_MERCHANT_UID,
WAAFIPAY_API_USER_ID, WAAFIPAY_API_KEY, WAAFIPAY_TIMEOUT_SECONDS, SANDBOX_APPROVE_DELAY_SECONDS,
SANDBOX_LATE_DELAY_SECONDS (optional), EDAHAB_BASE_URL, EDAHAB_API_KEY, EDAHAB_API_SECRET, EDAHAB_AGENT_CODE,
EDAHAB_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import os
from typing import Any

from .base import WALLET_EDAHAB, WALLET_MPESA, WALLETS, PaymentProvider
from .daraja import PAYBILL, DarajaConfig, DarajaProvider
from .edahab import EdahabConfig, EdahabProvider
from .sandbox import SandboxProvider
from .tokencache import CacheLike
from .waafipay import WaafiPayConfig, WaafiPayProvider

WAAFIPAY_WALLETS = frozenset({"evcplus", "zaad", "sahal"})


def _get(settings_obj: Any, name: str, default: Any = "") -> Any:
    value = getattr(settings_obj, name, default)
    return default if value is None else value


def daraja_configured(settings_obj: Any) -> bool:
    names = ("DARAJA_CONSUMER_KEY", "DARAJA_CONSUMER_SECRET", "DARAJA_SHORTCODE", "DARAJA_PASSKEY")
    return all(_get(settings_obj, n) for n in names)


def waafipay_configured(settings_obj: Any) -> bool:
    names = ("WAAFIPAY_MERCHANT_UID", "WAAFIPAY_API_USER_ID", "WAAFIPAY_API_KEY")
    return all(_get(settings_obj, n) for n in names)


def edahab_configured(settings_obj: Any) -> bool:
    return all(_get(settings_obj, n) for n in ("EDAHAB_API_KEY", "EDAHAB_API_SECRET", "EDAHAB_AGENT_CODE"))


def sandbox_provider(settings_obj: Any) -> SandboxProvider:
    return SandboxProvider(
        approve_delay=float(_get(settings_obj, "SANDBOX_APPROVE_DELAY_SECONDS", 2.0)),
        late_delay=float(_get(settings_obj, "SANDBOX_LATE_DELAY_SECONDS", 120.0)),
    )


def get_provider(wallet: str, settings_obj: Any, *, cache: CacheLike | None = None) -> PaymentProvider:
    """The provider for ``wallet``. ``cache`` (Django's cache in production) shares the Daraja token."""
    if wallet not in WALLETS:
        raise ValueError(f"unknown wallet {wallet!r}")
    if wallet == WALLET_MPESA and daraja_configured(settings_obj):
        config = DarajaConfig(
            base_url=_get(settings_obj, "DARAJA_BASE_URL"),
            consumer_key=_get(settings_obj, "DARAJA_CONSUMER_KEY"),
            consumer_secret=_get(settings_obj, "DARAJA_CONSUMER_SECRET"),
            shortcode=str(_get(settings_obj, "DARAJA_SHORTCODE")),
            passkey=_get(settings_obj, "DARAJA_PASSKEY"),
            transaction_type=_get(settings_obj, "DARAJA_TRANSACTION_TYPE", PAYBILL) or PAYBILL,
            till_number=str(_get(settings_obj, "DARAJA_TILL_NUMBER", "")),
        )
        return DarajaProvider(config, cache=cache if cache is not None else _django_cache())
    if wallet in WAAFIPAY_WALLETS and waafipay_configured(settings_obj):
        config_w = WaafiPayConfig(
            base_url=_get(settings_obj, "WAAFIPAY_BASE_URL"),
            merchant_uid=str(_get(settings_obj, "WAAFIPAY_MERCHANT_UID")),
            api_user_id=str(_get(settings_obj, "WAAFIPAY_API_USER_ID")),
            api_key=_get(settings_obj, "WAAFIPAY_API_KEY"),
            timeout_seconds=float(_get(settings_obj, "WAAFIPAY_TIMEOUT_SECONDS", 180.0)),
        )
        return WaafiPayProvider(config_w)
    if wallet == WALLET_EDAHAB and edahab_configured(settings_obj):
        timeout = float(_get(settings_obj, "EDAHAB_TIMEOUT_SECONDS", 60.0))
        return EdahabProvider(
            EdahabConfig(
                base_url=_get(settings_obj, "EDAHAB_BASE_URL"),
                api_key=_get(settings_obj, "EDAHAB_API_KEY"),
                api_secret=_get(settings_obj, "EDAHAB_API_SECRET"),
                agent_code=str(_get(settings_obj, "EDAHAB_AGENT_CODE")),
                timeout_seconds=timeout,
                query_timeout=min(15.0, timeout),  # a check never waits for the payer
            )
        )
    return sandbox_provider(settings_obj)


def _django_cache() -> CacheLike | None:
    """Django's default cache when Django is set up (shared token across workers), else None (local)."""
    try:
        from django.conf import settings
        from django.core.cache import cache
    except ImportError:
        return None
    return cache if (settings.configured or os.environ.get("DJANGO_SETTINGS_MODULE")) else None
