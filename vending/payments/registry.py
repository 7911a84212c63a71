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
from collections.abc import Callable
from typing import Any

from vending.wallets import wallet_spec

from .base import PaymentProvider, ProviderRejected
from .daraja import PAYBILL, DarajaConfig, DarajaProvider
from .edahab import EdahabConfig, EdahabProvider
from .sandbox import SandboxProvider
from .tokencache import CacheLike
from .waafipay import WaafiPayConfig, WaafiPayProvider

# Provider names as payments and callbacks store them (Payment.provider, ProviderCallback.provider).
DARAJA = DarajaProvider.name
WAAFIPAY = WaafiPayProvider.name
EDAHAB = EdahabProvider.name
SANDBOX = SandboxProvider.name


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


def _daraja(settings_obj: Any, cache: CacheLike | None) -> PaymentProvider:
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


def _waafipay(settings_obj: Any, cache: CacheLike | None) -> PaymentProvider:
    config = WaafiPayConfig(
        base_url=_get(settings_obj, "WAAFIPAY_BASE_URL"),
        merchant_uid=str(_get(settings_obj, "WAAFIPAY_MERCHANT_UID")),
        api_user_id=str(_get(settings_obj, "WAAFIPAY_API_USER_ID")),
        api_key=_get(settings_obj, "WAAFIPAY_API_KEY"),
        timeout_seconds=float(_get(settings_obj, "WAAFIPAY_TIMEOUT_SECONDS", 180.0)),
    )
    return WaafiPayProvider(config)


def _edahab(settings_obj: Any, cache: CacheLike | None) -> PaymentProvider:
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


# provider name -> (is it configured?, build it). The sandbox needs no entry: it is what an unconfigured
# provider's wallets fall back to.
_Build = Callable[[Any, CacheLike | None], PaymentProvider]
PROVIDERS: dict[str, tuple[Callable[[Any], bool], _Build]] = {
    DARAJA: (daraja_configured, _daraja),
    WAAFIPAY: (waafipay_configured, _waafipay),
    EDAHAB: (edahab_configured, _edahab),
}


def get_provider(wallet: str, settings_obj: Any, *, cache: CacheLike | None = None) -> PaymentProvider:
    """The provider for ``wallet`` (its registry entry names it), or the sandbox while that one is not configured.

    ``cache`` (Django's cache in production) shares the Daraja token.
    """
    spec = wallet_spec(wallet)
    if spec is None:
        raise ValueError(f"unknown wallet {wallet!r}")
    entry = PROVIDERS.get(spec.provider)
    if entry is not None and entry[0](settings_obj):
        return entry[1](settings_obj, cache)
    return sandbox_provider(settings_obj)


def provider_by_name(name: str, settings_obj: Any, *, cache: CacheLike | None = None) -> PaymentProvider:
    """The provider a stored payment or callback names; ProviderRejected when it is not configured any more."""
    if name == SANDBOX:
        return sandbox_provider(settings_obj)
    entry = PROVIDERS.get(name)
    if entry is None or not entry[0](settings_obj):
        raise ProviderRejected(f"provider {name!r} is not configured any more")
    return entry[1](settings_obj, cache)


def _django_cache() -> CacheLike | None:
    """Django's default cache when Django is set up (shared token across workers), else None (local)."""
    try:
        from django.conf import settings
        from django.core.cache import cache
    except ImportError:
        return None
    return cache if (settings.configured or os.environ.get("DJANGO_SETTINGS_MODULE")) else None
