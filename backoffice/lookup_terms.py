"""What staff type into a search box, read the way customers say it on the phone.

A phone number in the local format of any utility's country (`0711000111`, `0711 000 111`, `711000111`,
`+254 711 000 111`) becomes its E.164 form with libphonenumber (`vending.phones`); a meter number with spaces
or dashes (`0412-345-6784`) becomes its digits.
"""

import re

from vending import phones

_SEPARATORS = re.compile(r"[\s\-().]")


def compact(text: str) -> str:
    """`text` without the spaces, dashes, dots and brackets people write numbers with."""
    return _SEPARATORS.sub("", text or "")


def utility_regions() -> list[str]:
    from vending.models import Utility

    regions = sorted(set(Utility.objects.values_list("country", flat=True)))
    return regions or [phones.DEFAULT_REGION]


def phone_forms(text: str, *, regions: list[str] | None = None) -> set[str]:
    """The E.164 numbers `text` can be, read in each utility's country (empty when it is no phone number)."""
    found = set()
    for region in regions if regions is not None else utility_regions():
        try:
            found.add(phones.normalise(compact(text), region.upper()))
        except phones.InvalidPhoneNumber:
            continue
    return found


def meter_digits(text: str) -> str:
    """The digits of a meter number written with separators ('' when other characters remain)."""
    digits = compact(text)
    return digits if digits.isdigit() else ""
