"""One interface over the three encryption algorithms: EA07 (STA), EA09 (DES), EA11 (MISTY1).

The STA and MISTY1 modules build their lookup tables at import (tens of milliseconds), so they
are imported on first use: a process that only vends EA09 never pays for them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

from vending.sts.dea import des_decrypt, des_encrypt
from vending.sts.errors import KeyLengthError, UnsupportedError

_KEY_BYTES = {"07": 8, "09": 8, "11": 16}


@cache
def _impl(ea: str) -> tuple[Callable[[bytes, int], int], Callable[[bytes, int], int]]:
    """(encrypt, decrypt) for an EA, each taking (key bytes, block int)."""
    if ea == "07":
        from vending.sts import sta

        enc, dec = sta.encrypt, sta.decrypt
        return (lambda key, block: enc(block, int.from_bytes(key, "big"))), (
            lambda key, block: dec(block, int.from_bytes(key, "big"))
        )
    if ea == "09":
        return (lambda key, block: des_encrypt(block, key)), (lambda key, block: des_decrypt(block, key))
    from vending.sts.misty1 import Misty1, encrypt_with_key

    schedules: Any = lru_cache(maxsize=256)(Misty1)  # a meter's key is reused when decoding
    # Vending mostly uses each key once: the one-shot path skips building a schedule object.
    return encrypt_with_key, (lambda key, block: schedules(key).decrypt(block))


def _checked(ea: str, key: bytes) -> tuple[Callable[[bytes, int], int], Callable[[bytes, int], int]]:
    want = _KEY_BYTES.get(ea)
    if want is None:
        raise UnsupportedError(f"unknown ea {ea!r}: supported are 07, 09, 11")
    if len(key) != want:
        raise KeyLengthError(f"EA{ea} needs a {want}-byte decoder key, not {len(key)} bytes")
    return _impl(ea)


def encrypt_block(ea: str, key: bytes, block: int) -> int:
    """Encrypt a 64-bit token block under a decoder key with algorithm ``ea``."""
    return _checked(ea, key)[0](key, block)


def decrypt_block(ea: str, key: bytes, block: int) -> int:
    """Decrypt a 64-bit token block under a decoder key with algorithm ``ea``."""
    return _checked(ea, key)[1](key, block)
