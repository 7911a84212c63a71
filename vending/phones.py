"""Phone numbers: one canonical E.164 value, formatted per provider at the edge (docs/PROTOCOLS.md §5).

Parsing and validation are libphonenumber's job; this module only adds the input habits of our customers
(``00`` for international, a missing ``+``) and the prefix -> network -> wallet hint table.
A prefix is a hint, not proof (Kenya has number portability): the USSD menu lets the customer choose.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "KE"

# country code -> national prefix -> (network, wallet id or None). Longest prefix wins.
# Mirrors docs/PROTOCOLS.md §5 (libphonenumber carrier data 9.0.43). Settings expose it as PHONE_WALLET_PREFIXES.
_SAFARICOM = ("Safaricom", "mpesa")
_AIRTEL_KE = ("Airtel", None)
_TELKOM = ("Telkom", None)
_HORMUUD = ("Hormuud", "evcplus")
_TELESOM = ("Telesom", "zaad")
_GOLIS = ("Golis", "sahal")
_SOMTEL = ("Somtel", "edahab")
DEFAULT_WALLET_PREFIXES: dict[str, dict[str, tuple[str, str | None]]] = {
    "254": {
        **dict.fromkeys(("70", "71", "72", "74", "757", "758", "759", "768", "769", "79"), _SAFARICOM),
        **dict.fromkeys(("11", "14", "18"), _SAFARICOM),
        **dict.fromkeys(("744", "747"), ("Other", None)),
        **dict.fromkeys(("73", "75", "76", "78", "10", "135", "136", "137", "138", "139"), _AIRTEL_KE),
        **dict.fromkeys(("77", "761", "120"), _TELKOM),
    },
    "252": {
        **dict.fromkeys(("61", "77", "78"), _HORMUUD),
        "68": ("SomNet", "evcplus"),
        **dict.fromkeys(("63", "73", "24"), _TELESOM),
        **dict.fromkeys(("90", "60", "70", "72"), _GOLIS),
        **dict.fromkeys(("62", "65", "66", "76", "79"), _SOMTEL),
        **dict.fromkeys(("67", "69"), ("Nationlink", None)),
        **dict.fromkeys(("71", "75"), ("Amtel", None)),
        **dict.fromkeys(("64", "80", "88"), ("Somali Networks", None)),
    },
}

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


def detect_network(
    e164: str,
    table: Mapping[str, Mapping[str, Sequence[str | None]]] | None = None,
) -> NetworkInfo | None:
    """Network and wallet hint for a normalised number; None when no prefix matches."""
    country, national = _country_and_national(normalise(e164))
    prefixes = (table if table is not None else DEFAULT_WALLET_PREFIXES).get(country, {})
    for length in range(len(national), 0, -1):
        entry = prefixes.get(national[:length])
        if entry is not None:
            network, wallet = entry[0], entry[1]
            return NetworkInfo(country_code=country, network=str(network), wallet=wallet or None)
    return None


@lru_cache(maxsize=16384)
def _country_and_national(e164: str) -> tuple[str, str]:
    number = phonenumbers.parse(e164, None)
    return str(number.country_code), phonenumbers.national_significant_number(number)


PrefixTable = Mapping[str, Mapping[str, Sequence[str | None]]]


def wallet_for(e164: str, table: PrefixTable | None = None) -> str | None:
    info = detect_network(e164, table)
    return info.wallet if info else None
