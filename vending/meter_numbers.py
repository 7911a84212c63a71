"""Meter numbers as customers type them: digits only, 11 or 13 long, Luhn check digit (docs/STS.md §10)."""

from django.core.exceptions import ValidationError

from vending.exceptions import BadMeterNumber
from vending.sts import drn_is_valid, pan_from_drn


def clean_drn(raw: str) -> str:
    """Return the DRN with separators removed, or raise BadMeterNumber saying what is wrong."""
    drn = "".join(ch for ch in raw if ch not in " -.")
    if not drn.isdigit():
        raise BadMeterNumber("A meter number has digits only.", problem="digits")
    if len(drn) not in (11, 13):
        raise BadMeterNumber("A meter number has 11 or 13 digits.", problem="length")
    if not drn_is_valid(drn):
        raise BadMeterNumber("The meter number's last digit does not match; please check it.", problem="check")
    return drn


def validate_drn(value: str) -> None:
    """Model-field validator form of clean_drn."""
    try:
        clean_drn(value)
    except BadMeterNumber as exc:
        raise ValidationError(str(exc)) from exc


def derive_pan(drn: str) -> str:
    return pan_from_drn(drn)
