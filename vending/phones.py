"""Phone numbers: one canonical E.164 value, formatted per provider at the edge (docs/PROTOCOLS.md §5).

Parsing and validation are libphonenumber's job; this module only adds the input habits of our customers
(``00`` for international, a missing ``+``). The operator of a number is libphonenumber's carrier data too
(``phonenumbers.carrier``), unless a deployment corrects it by prefix (SMS_OPERATOR_PREFIXES); which wallet that
operator's subscribers have is the wallet registry's (``WalletSpec.networks``). The same operator steers the SMS
routes (vending/sms/routing.py). An operator is a hint, not proof (Kenya has number portability): the USSD menu
lets the customer choose.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import phonenumbers
from phonenumbers import carrier

from vending.wallets import wallet_for_network

DEFAULT_REGION = "KE"

_SEPARATORS = re.compile(r"[\s\-().]")


class InvalidPhoneNumber(ValueError):
    pass


@dataclass(frozen=True)
class NetworkInfo:
    country_code: str
    network: str
    wallet: str | None  # None: no wallet we support on this network


def _parse_valid(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


# Every USSD hop and SMS carries the sender's number, and libphonenumber takes tens of microseconds to parse
# one: parse each distinct number once per process. Invalid input raises and is not cached.
@lru_cache(maxsize=16384)
def normalise(raw: str, default_region: str = DEFAULT_REGION) -> str:
    """Return ``raw`` as E.164 (``+2547...``) or raise InvalidPhoneNumber.

    Accepts ``+254 711 000 111``, ``00254711000111``, ``254711000111`` and ``0711000111`` (national trunk
    0 in ``default_region``).
    """
    text = _SEPARATORS.sub("", raw or "")
    if text.startswith("00"):
        text = "+" + text[2:]
    if not re.fullmatch(r"\+?\d{6,16}", text):
        raise InvalidPhoneNumber("not a phone number")
    number = None
    if text.startswith("+"):
        number = _parse_valid(text, None)
    elif text.startswith("0"):
        number = _parse_valid(text, default_region)
    else:
        # No "+" and no trunk 0: either a full international number or a national one without the 0.
        number = _parse_valid("+" + text, None) or _parse_valid(text, default_region)
    if number is None:
        raise InvalidPhoneNumber("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def for_africastalking(e164: str) -> str:
    """AT wants E.164 with the ``+``."""
    return normalise(e164)


def for_daraja(e164: str) -> str:
    """Daraja wants 12 digits, no ``+``: ``2547XXXXXXXX`` or ``2541XXXXXXXX``."""
    digits = normalise(e164)[1:]
    if not re.fullmatch(r"254[17]\d{8}", digits):
        raise InvalidPhoneNumber("M-Pesa needs a Kenyan mobile number")
    return digits


def for_waafipay(e164: str) -> str:
    """WaafiPay ``accountNo``: country code + national number, no ``+``, no trunk 0."""
    return normalise(e164)[1:]


OperatorPrefixes = Mapping[str, str]  # "+25261" -> operator name, as SMS_OPERATOR_PREFIXES writes them


@lru_cache(maxsize=8)
def operator_prefixes(text: str) -> OperatorPrefixes:
    """Read SMS_OPERATOR_PREFIXES (``+25261=Hormuud,+25277=Hormuud``); ValueError names the bad item.

    Cached on the text: the USSD channel reads the setting on every hop.
    """
    table: dict[str, str] = {}
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        prefix, sep, name = (p.strip() for p in item.partition("="))
        if not sep or not prefix.startswith("+") or not prefix[1:].isdigit() or not name:
            raise ValueError(f"SMS_OPERATOR_PREFIXES: {item!r} is not +PREFIX=Operator")
        table[prefix] = name
    return MappingProxyType(table)  # shared by every caller of the cache: read-only


def operator_of(e164: str, overrides: OperatorPrefixes | None = None) -> str:
    """The operator's name for a number ("Safaricom", "Golis Telecom"); "" when nobody knows it.

    The longest matching prefix in ``overrides`` (a deployment's corrections, where the carrier data lags behind
    a new range) wins; else libphonenumber's carrier data.
    """
    if overrides:
        best = max((p for p in overrides if e164.startswith(p)), key=len, default="")
        if best:
            return overrides[best]
    return _carrier_name(e164)


# Every USSD hop asks for the caller's wallet, and the carrier lookup parses the number and reads its data
# (loaded lazily on the first lookup): look each distinct number up once per process.
@lru_cache(maxsize=16384)
def _carrier_name(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    # Not name_for_number, which also wants a mobile number type: libphonenumber types some Somali ranges
    # (seven-digit +25224…, AirSom's) as fixed lines, and their operator is still the best hint there is.
    return str(carrier.name_for_valid_number(number, "en"))


def operator_slug(name: str) -> str:
    """'Golis Telecom' -> 'golis': the first word, lower case, is how routes and the wallet registry name an
    operator."""
    words = name.strip().lower().split()
    return words[0] if words else ""


def detect_network(e164: str, overrides: OperatorPrefixes | None = None) -> NetworkInfo | None:
    """Operator and wallet hint for a number; None when its operator is unknown."""
    e164 = normalise(e164)
    network = operator_of(e164, overrides)
    if not network:
        return None
    return NetworkInfo(
        country_code=_country_code(e164),
        network=network,
        wallet=wallet_for_network(operator_slug(network)),
    )


@lru_cache(maxsize=16384)
def _country_code(e164: str) -> str:
    return str(phonenumbers.parse(e164, None).country_code)


def wallet_for(e164: str, overrides: OperatorPrefixes | None = None) -> str | None:
    """The wallet the number's operator suggests (the USSD menu lists it first; an SMS that names none uses it)."""
    info = detect_network(e164, overrides)
    return info.wallet if info else None
