"""Which payment provider a wallet, or a stored payment or callback, means: the lookup the money-in and the
money-back services share (vending.services.payments, vending.services.refunds), so neither imports the other.
"""

from django.conf import settings

from vending.payments import PaymentProvider, get_provider
from vending.payments.registry import provider_by_name


def provider_for_wallet(wallet: str) -> PaymentProvider:
    return get_provider(wallet, settings)


def provider_named(name: str) -> PaymentProvider:
    """The provider a stored payment or callback names (it must still be configured)."""
    return provider_by_name(name, settings)
