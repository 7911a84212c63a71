"""The bulk path of ``python -m vending.sts generate``: one credit request by vending key → its line.

Bulk vending is almost all one shape: a class 0 token with ``tid``, ``units`` and ``rnd`` for a meter
given by ``drn`` and a ``vending_key``. Served the general way (``requests.generate``), such a line
spends most of its time building a validated ``MeterConfig``, dispatching and encoding the JSON
result, not on the cryptography. :func:`credit_line` serves exactly that shape with the same
checks inlined and the result line formatted directly, caching what is shared between lines (the
vending key's bytes and DES schedule, the CONTROLBlock, the DKGA04 message prefix).

The contract: it returns the line ``requests.generate`` + the CLI's JSON encoder would give, or
None. None means "not the plain shape, or something to refuse": the caller then serves the line
the general way, which gives the answer or the error message. It never raises an error message
of its own, so the refusals stay in one place. tests/sts/test_fastpath.py checks the two paths
agree on valid and invalid variations of every field.
"""

from __future__ import annotations

from vending.sts.amount import MAX_UNITS, encode_amount
from vending.sts.crc import token_crc
from vending.sts.dea import des_encrypt, des_encryptor
from vending.sts.dkga import control_block, dkga04_message
from vending.sts.identity import _DOUBLED, luhn_check_digit, pan_block

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

_BITS_27_28 = 0b11 << 27
_NOT_BITS_27_28 = ((1 << 64) - 1) ^ _BITS_27_28
# Meter fields that this path leaves to the general one (another identity or a given decoder key).
_GENERAL_FIELDS = ("pan", "iin", "decoder_key")
_EAS = frozenset(("07", "09", "11"))
_DKGAS = frozenset(("02", "04"))
_BASE_DATES = frozenset((1993, 2014, 2035))
_VENDING_KEY_BYTES = {"02": 8, "04": 20}
_DKGA_BY_LENGTH = {8: "02", 20: "04"}

# Luhn total of the IIN digits in front of an 11-digit (IIN 600727) or 13-digit (IIN 0000) DRN.
_IIN = {11: "600727", 13: "0000"}
_IIN_TOTAL = {n: -int(luhn_check_digit(iin + "0" * n)) % 10 for n, iin in _IIN.items()}

# Per-batch caches, keyed by values that repeat across a utility's meters; cleared when large.
_CACHE_LIMIT = 4096
_vending_keys: dict[str, tuple[bytes, int] | None] = {}
_control_blocks: dict[tuple[int, str, int, int], int] = {}
_dkga04_parts: dict[tuple[int, str, int, str, int, int], tuple[bytes, bytes]] = {}


def _vending_key(text: str) -> tuple[bytes, int] | None:
    """(bytes, int) of a hex vending key, or None if it is not hex (the general path says so)."""
    if text in _vending_keys:
        return _vending_keys[text]
    try:
        key = bytes.fromhex(text)
    except ValueError:
        found = None
    else:
        found = (key, int.from_bytes(key, "big"))
    if len(_vending_keys) >= _CACHE_LIMIT:
        _vending_keys.clear()
    _vending_keys[text] = found
    return found


def _control_block(kt: int, sgc: str, ti: int, krn: int) -> int:
    key = (kt, sgc, ti, krn)
    found = _control_blocks.get(key)
    if found is None:
        if len(_control_blocks) >= _CACHE_LIMIT:
            _control_blocks.clear()
        found = _control_blocks[key] = control_block(kt, sgc, ti, krn)
    return found


def _dkga04_affixes(base_date: int, ea: str, ti: int, sgc: str, kt: int, krn: int) -> tuple[bytes, bytes]:
    """The DKGA04 message around the PAN: (everything before it, the 4-byte key length after it)."""
    key = (base_date, ea, ti, sgc, kt, krn)
    found = _dkga04_parts.get(key)
    if found is None:
        marker = "0" * 18  # any 18 characters: split the message where the PAN goes
        size = 16 if ea == "11" else 8
        message = dkga04_message(base_date=base_date, ea=ea, ti=ti, sgc=sgc, kt=kt, krn=krn, pan=marker,
                                 key_bits=size * 8)  # fmt: skip
        cut = len(message) - 4 - len(marker)
        found = (message[:cut], message[-4:])
        if len(_dkga04_parts) >= _CACHE_LIMIT:
            _dkga04_parts.clear()
        _dkga04_parts[key] = found
    return found


def credit_line(request: Any) -> str | None:
    """The JSON result line for a plain credit request (see the module docstring), else None."""
    if type(request) is not dict:
        return None
    token = request.get("token")
    meter = request.get("meter")
    if type(token) is not dict or type(meter) is not dict:
        return None
    # token: class 0 (an int, not a bool), subclass 0-3, tid 0..2^24-1, units 0..MAX_UNITS, rnd 0-15.
    token_class = token.get("class")
    if type(token_class) is not int or token_class != 0 or "key_change" in token:
        return None
    subclass = token.get("subclass", 0)
    tid = token.get("tid")
    units = token.get("units")
    rnd = token.get("rnd", 0)
    if not (
        type(subclass) is int
        and 0 <= subclass <= 3
        and type(tid) is int
        and 0 <= tid <= 0xFFFFFF
        and type(units) is int
        and 0 <= units <= MAX_UNITS
        and type(rnd) is int
        and 0 <= rnd <= 15
    ):
        return None
    # meter: drn + vending_key; every other field as MeterConfig would accept it.
    for name in _GENERAL_FIELDS:
        if name in meter:
            return None
    drn = meter.get("drn")
    sgc = meter.get("sgc", "000000")
    ti = meter.get("ti", 1)
    krn = meter.get("krn", 1)
    kt = meter.get("kt", 2)
    ea = meter.get("ea", "07")
    dkga = meter.get("dkga")
    base_date = meter.get("base_date", 1993)
    vending_key = meter.get("vending_key")
    ken = meter.get("ken", 255)
    if not (
        type(drn) is str
        and len(drn) in (11, 13)
        and drn.isdigit()
        and drn.isascii()
        and type(sgc) is str
        and len(sgc) == 6
        and sgc.isdigit()
        and sgc.isascii()
        and type(ti) is int
        and 0 <= ti <= 99
        and type(krn) is int
        and 1 <= krn <= 9
        and type(kt) is int
        and 0 <= kt <= 3
        and type(ken) is int
        and 0 <= ken <= 255
        and type(base_date) is int
        and base_date in _BASE_DATES
        and type(ea) is str
        and ea in _EAS
        and type(vending_key) is str
    ):
        return None
    # Both Luhn digits from one pass over the DRN (identity.luhn_check_digit on the DRN and on the
    # PAN payload). From the right, the DRN's digits 1, 3, 5... ("odd") are doubled in the PAN's
    # sum and plain in the DRN's own check, the others the other way round.
    data = drn.encode()
    odd, even = data[-1::-2], data[-2::-2]
    if (sum(even.translate(_DOUBLED)) + sum(odd) - 48 * len(odd)) % 10:
        return None  # wrong check digit
    found = _vending_key(vending_key)
    if found is None:
        return None
    vk, vk_int = found
    if dkga is None:
        dkga = _DKGA_BY_LENGTH.get(len(vk))
        if dkga is None:
            return None
    elif type(dkga) is not str or dkga not in _DKGAS:
        return None
    if len(vk) != _VENDING_KEY_BYTES[dkga]:
        return None
    # The PAN and the decoder key (dkga.derive_decoder_key, inlined).
    n = len(drn)
    pan = f"{_IIN[n]}{drn}{-(sum(odd.translate(_DOUBLED)) + sum(even) - 48 * len(even) + _IIN_TOTAL[n]) % 10}"
    if dkga == "02":
        if ea == "11":
            return None
        x = (int(pan[1:17], 16) if kt != 3 else pan_block(pan, kt)) ^ _control_block(kt, sgc, ti, krn)
        key_int = des_encryptor(vk)(x) ^ x ^ vk_int
        key = key_int.to_bytes(8, "big")
    else:
        before, after = _dkga04_affixes(base_date, ea, ti, sgc, kt, krn)
        key = _hmac_sha256(vk, before + pan.encode() + after)[: 16 if ea == "11" else 8]
        key_int = int.from_bytes(key, "big") if ea == "07" else 0
    # The token (tokens.credit_token, inlined): frame, encrypt, insert class 0, render.
    block48 = subclass << 44 | rnd << 40 | tid << 16 | encode_amount(units)
    block = block48 << 16 | token_crc(0, block48)
    if ea == "07":
        enc = _sta_encrypt(block, key_int)
    elif ea == "09":
        enc = des_encrypt(block, key)
    else:
        enc = _misty1_encrypt(key, block)
    digits = f"{(enc & _BITS_27_28) << 37 | (enc & _NOT_BITS_27_28):020d}"
    return (
        f'{{"tokens": [{{"class": 0, "subclass": {subclass}, "token": "{digits}"}}], '
        f'"decoder_key": "{key.hex()}", "tid": {tid}}}'
    )


def _sta_encrypt(block: int, key: int) -> int:
    # Bound on first use: the STA tables are built only by processes that vend EA07.
    global _sta_encrypt
    from vending.sts.sta import encrypt

    _sta_encrypt = encrypt
    return encrypt(block, key)


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    # Bound on first use: hmac loads OpenSSL's hashlib, which DKGA02 batches never need.
    global _hmac_sha256
    import functools
    import hmac

    _hmac_sha256 = functools.partial(hmac.digest, digest="sha256")
    return _hmac_sha256(key, message)


def _misty1_encrypt(key: bytes, block: int) -> int:
    global _misty1_encrypt
    from vending.sts.misty1 import encrypt_with_key

    _misty1_encrypt = encrypt_with_key
    return encrypt_with_key(key, block)
