"""DES weak and semi-weak keys: keys under which DES (and so the STA, EA 07) gives almost no secrecy.

A weak key makes encryption its own inverse (the 16 round keys are all equal); a semi-weak key has a
partner key that decrypts what it encrypts. The low bit of each byte is a parity bit DES ignores, so
`FFFFFFFFFFFFFFFF` is the weak key `FEFEFEFEFEFEFEFE` with other parity: keys are compared with the
parity bits cleared. Pure: no Django (docs/KEY_SAFETY.md).
"""

from __future__ import annotations

# As usually printed (odd parity). The 4 weak keys:
WEAK_KEYS_HEX: tuple[str, ...] = (
    "0101010101010101",
    "fefefefefefefefe",
    "e0e0e0e0f1f1f1f1",
    "1f1f1f1f0e0e0e0e",
)
# The 12 semi-weak keys, as 6 pairs (each decrypts what the other encrypts):
SEMI_WEAK_KEYS_HEX: tuple[str, ...] = (
    "01fe01fe01fe01fe",
    "fe01fe01fe01fe01",
    "1fe01fe00ef10ef1",
    "e01fe01ff10ef10e",
    "01e001e001f101f1",
    "e001e001f101f101",
    "1ffe1ffe0efe0efe",
    "fe1ffe1ffe0efe0e",
    "011f011f010e010e",
    "1f011f010e010e01",
    "e0fee0fef1fef1fe",
    "fee0fee0fef1fef1",
)


def _without_parity(key: bytes) -> bytes:
    return bytes(b & 0xFE for b in key)


_BAD = frozenset(_without_parity(bytes.fromhex(k)) for k in (*WEAK_KEYS_HEX, *SEMI_WEAK_KEYS_HEX))


def is_weak_des_key(key: bytes) -> bool:
    """True for an 8-byte key equal, parity bits aside, to one of the 4 weak or 12 semi-weak DES keys."""
    return len(key) == 8 and _without_parity(key) in _BAD


def weak_key_problem(key: bytes) -> str | None:
    """Why `key` must not be used as a vending or decoder key, or None.

    8-byte keys (DKGA02 vending keys, STA decoder keys) are checked against the DES list; any key whose
    bytes are all equal (all zeros, all FF) is refused whatever its length."""
    if is_weak_des_key(key):
        return "it is a DES weak or semi-weak key"
    if len(set(key)) <= 1:
        return "all its bytes are the same"
    return None
