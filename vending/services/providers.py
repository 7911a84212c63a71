"""Which payment provider a wallet, or a stored payment or callback, means: the lookup the money-in and the
money-back services share (vending.services.payments, vending.services.refunds), so neither imports the other.
"""

from django.conf import settings

from vending.payments import PaymentProvider, ProviderRejected, get_provider
from vending.payments.registry import sandbox_provider

_PROVIDER_WALLET = {"daraja": "mpesa", "waafipay": "evcplus", "edahab": "edahab"}


def provider_for_wallet(wallet: str) -> PaymentProvider:
    return get_provider(wallet, settings)


def provider_named(name: str) -> PaymentProvider:
    """The provider a stored payment or callback names (it must still be configured)."""
    if name == "sandbox":
        return sandbox_provider(settings)
    provider = get_provider(_PROVIDER_WALLET.get(name, "mpesa"), settings)
    if provider.name != name:
        raise ProviderRejected(f"provider {name!r} is not configured any more")
    return provider
