"""TransferAmount encoding (§6.3.6.2): a 2-bit exponent and 14-bit mantissa in one 16-bit field.

The same formula carries MPL and MPPUL in watts (§6.3.9, §6.3.10). Every conversion rounds UP, in
the customer's favour, and kWh arrive as decimal strings so that rounding is exact (no floats).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from vending.sts.errors import OutOfRangeError, RequestError

# units = m·10^e + offset_e; offset_{e+1} = offset_e + 2^14·10^e.
_OFFSETS = (0, 16_384, 180_224, 1_818_624)
_MANTISSA_MAX = 16_383
MAX_UNITS = _MANTISSA_MAX * 1000 + _OFFSETS[3]  # 18 201 624 units = 1 820 162.4 kWh


def encode_amount(units: int) -> int:
    """The 16-bit field for ``units`` (0.1 kWh, 0.1 m³ or watts), rounded up to the next step."""
    if units < 0 or units > MAX_UNITS:
        raise OutOfRangeError(
            f"amount {units} is outside 0..{MAX_UNITS} (0 to 1 820 162.4 kWh): the 16-bit field cannot carry it"
        )
    if units <= _MANTISSA_MAX:
        return units
    for exp in (1, 2, 3):
        step = 10**exp
        # Ceiling division: a value between two steps goes up to the next one.
        mantissa = -(-(units - _OFFSETS[exp]) // step)
        if mantissa <= _MANTISSA_MAX:
            return (exp << 14) | mantissa
    raise AssertionError("unreachable: MAX_UNITS bounds the mantissa")  # pragma: no cover


def decode_amount(field: int) -> int:
    """The units a 16-bit amount field stands for."""
    exp = field >> 14
    return (field & 0x3FFF) * 10**exp + _OFFSETS[exp]


def round_units(units: int) -> int:
    """The units the meter will actually credit for ``units`` (the encoding rounds up)."""
    return decode_amount(encode_amount(units))


def kwh_to_units(kwh: str | int | Decimal) -> int:
    """0.1-unit count for a decimal quantity, rounded up exactly: ``"1.82"`` → 19.

    Floats are refused on purpose: 0.1 has no exact binary value, so a float cannot be rounded
    up correctly. Pass the decimal string the customer's amount came from.
    """
    if isinstance(kwh, bool | float):
        raise RequestError('kwh must be a decimal string such as "25.5", not a floating-point number')
    try:
        value = Decimal(kwh) if not isinstance(kwh, Decimal) else kwh
    except (InvalidOperation, TypeError, ValueError):
        raise RequestError(f"kwh {kwh!r} is not a decimal number") from None
    if not value.is_finite():
        raise RequestError(f"kwh {kwh!r} is not a finite number")
    if value < 0:
        raise OutOfRangeError(f"kwh {kwh} is negative")
    tenths = value.scaleb(1)
    units = int(tenths.to_integral_value(rounding="ROUND_CEILING"))
    if units > MAX_UNITS:
        raise OutOfRangeError(f"{kwh} kWh is over the maximum of 1 820 162.4 kWh a token can carry")
    return units


def units_to_kwh(units: int) -> Decimal:
    """Units as a Decimal quantity with one decimal place (``256`` → ``Decimal("25.6")``)."""
    return Decimal(units).scaleb(-1)
