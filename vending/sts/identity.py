"""Meter identity (§6.1, §6.5.3.1): DRN, IIN, MeterPAN, Luhn check digits and the PANBlock.

MeterPAN (18 digits) = IIN ‖ DRN ‖ PAN check digit. IIN 600727 goes with 11-digit DRNs and IIN 0000
with 13-digit ones, so IIN ‖ DRN is always 17 digits. Both check digits are Luhn (mod 10).
"""

from __future__ import annotations

from vending.sts.errors import CheckDigitError, RequestError

LEGACY_IIN = "600727"
IIN_FOR_13_DIGITS = "0000"
# ASCII digit → digit sum of twice the digit, as a bytes.translate table (sums then run in C).
_DOUBLED = bytes.maketrans(b"0123456789", bytes((0, 2, 4, 6, 8, 1, 3, 5, 7, 9)))


def luhn_check_digit(payload: str) -> str:
    """The Luhn digit for ``payload``: double every second digit from the rightmost one."""
    if not payload.isdigit() or not payload.isascii():
        raise RequestError(f"{payload!r} is not a string of digits")
    data = payload.encode()
    # Doubled: the rightmost digit and every second one leftwards; the rest count as they are.
    plain = data[-2::-2]
    total = sum(data[-1::-2].translate(_DOUBLED)) + sum(plain) - 48 * len(plain)
    return str(-total % 10)


def luhn_is_valid(number: str) -> bool:
    """Whether the last digit of ``number`` is the Luhn digit of the others."""
    return len(number) >= 2 and number.isdigit() and number.isascii() and luhn_check_digit(number[:-1]) == number[-1]


def drn_is_valid(drn: str) -> bool:
    """Whether ``drn`` is an 11- or 13-digit decoder reference number with a good check digit."""
    return len(drn) in (11, 13) and luhn_is_valid(drn)


def default_iin(drn: str) -> str:
    """IIN 600727 for 11-digit DRNs, 0000 for 13-digit ones."""
    return LEGACY_IIN if len(drn) == 11 else IIN_FOR_13_DIGITS


def pan_from_drn(drn: str, iin: str | None = None) -> str:
    """The 18-digit MeterPAN for the DRN printed on a meter, after checking its check digit."""
    if not isinstance(drn, str) or len(drn) not in (11, 13) or not drn.isdigit() or not drn.isascii():
        raise RequestError(f"DRN {drn!r} is not an 11- or 13-digit number")
    if not luhn_is_valid(drn):
        raise CheckDigitError(
            f"DRN {drn} has a wrong check digit (expected {luhn_check_digit(drn[:-1])}): check the meter number"
        )
    if iin is None:
        iin = default_iin(drn)
    if not isinstance(iin, str) or not iin.isdigit() or not iin.isascii() or len(iin) + len(drn) != 17:
        raise RequestError(
            f"IIN {iin!r} does not fit DRN {drn}: IIN and DRN together make 17 digits "
            "(600727 with 11-digit DRNs, 0000 with 13-digit ones)"
        )
    payload = iin + drn
    return payload + luhn_check_digit(payload)


def check_pan(pan: str) -> str:
    """``pan`` if it is an 18-digit MeterPAN with a good check digit."""
    if not isinstance(pan, str) or len(pan) != 18 or not pan.isdigit() or not pan.isascii():
        raise RequestError(f"PAN {pan!r} is not an 18-digit number")
    if not luhn_is_valid(pan):
        raise CheckDigitError(
            f"PAN {pan} has a wrong check digit (expected {luhn_check_digit(pan[:-1])}): check the meter number"
        )
    return pan


def drn_of_pan(pan: str) -> str:
    """The DRN inside a MeterPAN: 13 digits after IIN 0000, otherwise 11 digits after a 6-digit IIN."""
    return pan[4:17] if pan.startswith(IIN_FOR_13_DIGITS) else pan[6:17]


def pan_block(pan: str, key_type: int) -> int:
    """PANBlock (§6.5.3.1) as a 64-bit value: the 16 digits after the PAN's first, as nibbles.

    For 11-digit DRNs that is the last 5 IIN digits ‖ DRN, for 13-digit ones the last 3 ‖ DRN:
    both are ``pan[1:17]``. For a common key (KT 3, DCTK) the DRN digits are zeroed (as Nectar
    does it; unverified elsewhere).
    """
    digits = pan[1:17]
    if key_type == 3:
        drn_len = len(drn_of_pan(pan))
        digits = digits[: 16 - drn_len] + "0" * drn_len
    return int(digits, 16)
