"""One interface over the three encryption algorithms: EA07 (STA), EA09 (DES), EA11 (MISTY1)."""

from __future__ import annotations

from functools import lru_cache

from vending.sts import sta
from vending.sts.dea import des_decrypt, des_encrypt
from vending.sts.errors import KeyLengthError, UnsupportedError
from vending.sts.misty1 import Misty1


@lru_cache(maxsize=256)
def _misty(key: bytes) -> Misty1:
    # A meter's key is reused for every token it gets: keep the schedule of recent keys.
    return Misty1(key)


def _check(ea: str, key: bytes) -> None:
    want = 16 if ea == "11" else 8
    if ea not in ("07", "09", "11"):
        raise UnsupportedError(f"unknown ea {ea!r}: supported are 07, 09, 11")
    if len(key) != want:
        raise KeyLengthError(f"EA{ea} needs a {want}-byte decoder key, not {len(key)} bytes")


def encrypt_block(ea: str, key: bytes, block: int) -> int:
    """Encrypt a 64-bit token block under a decoder key with algorithm ``ea``."""
    if ea == "07" and len(key) == 8:
        return sta.encrypt(block, int.from_bytes(key, "big"))
    _check(ea, key)
    if ea == "09":
        return des_encrypt(block, key)
    return _misty(key).encrypt(block)


def decrypt_block(ea: str, key: bytes, block: int) -> int:
    """Decrypt a 64-bit token block under a decoder key with algorithm ``ea``."""
    if ea == "07" and len(key) == 8:
        return sta.decrypt(block, int.from_bytes(key, "big"))
    _check(ea, key)
    if ea == "09":
        return des_decrypt(block, key)
    return _misty(key).decrypt(block)
