"""Small vocabularies shared by several models."""

from django.db import models


class Currency(models.TextChoices):
    KES = "KES", "Kenyan shilling"
    USD = "USD", "US dollar"
    SLSH = "SLSH", "Somaliland shilling"


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SOMALI = "so", "Somali"
    SWAHILI = "sw", "Swahili"


class Wallet(models.TextChoices):
    MPESA = "mpesa", "M-Pesa"
    EVCPLUS = "evcplus", "EVC Plus"
    ZAAD = "zaad", "Zaad"
    SAHAL = "sahal", "Sahal"
    EDAHAB = "edahab", "e-Dahab"


class Channel(models.TextChoices):
    USSD = "ussd", "USSD"
    SMS = "sms", "SMS"
    STAFF = "staff", "Staff"
    API = "api", "API"


class EncryptionAlgorithm(models.TextChoices):
    EA07 = "07", "EA07 (STA)"
    EA09 = "09", "EA09 (DEA)"
    EA11 = "11", "EA11 (MISTY1)"


class KeyGenerationAlgorithm(models.TextChoices):
    DKGA02 = "02", "DKGA02 (DES, 64-bit vending key)"
    DKGA04 = "04", "DKGA04 (HMAC-SHA-256, 160-bit vending key)"


class BaseDate(models.IntegerChoices):
    Y1993 = 1993, "1993-01-01"
    Y2014 = 2014, "2014-01-01"
    Y2035 = 2035, "2035-01-01"


class KeyType(models.IntegerChoices):
    DITK = 0, "0 DITK (initialisation)"
    DDTK = 1, "1 DDTK (default)"
    DUTK = 2, "2 DUTK (unique)"
    DCTK = 3, "3 DCTK (common)"


# Which wallet can pay in which currency (WaafiPay: USD everywhere, SLSH on Zaad; M-Pesa: KES;
# e-Dahab: USD and SLSH).
WALLET_CURRENCIES: dict[str, frozenset[str]] = {
    Wallet.MPESA: frozenset({Currency.KES}),
    Wallet.EVCPLUS: frozenset({Currency.USD}),
    Wallet.ZAAD: frozenset({Currency.USD, Currency.SLSH}),
    Wallet.SAHAL: frozenset({Currency.USD}),
    Wallet.EDAHAB: frozenset({Currency.USD, Currency.SLSH}),
}


def wallets_for_currency(currency: str) -> list[str]:
    """Wallets that can pay in `currency`, in menu order."""
    return [wallet for wallet in Wallet.values if currency in WALLET_CURRENCIES[wallet]]
