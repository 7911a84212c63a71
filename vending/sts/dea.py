"""EA09 (DEA): single DES in ECB mode on the block as 8 big-endian bytes (pycryptodome).

Also the primitive of DKGA02. DES ignores the key's parity bits, so any 8 bytes are a key.
The 2018 edition withdrew EA09 for new products; meters in the field still use it.
"""

from __future__ import annotations

from Crypto.Cipher import DES

_MODE_ECB = DES.MODE_ECB
_new = DES.new


def des_encrypt(block: int, key: bytes) -> int:
    """DES-ECB encryption of a 64-bit integer block."""
    return int.from_bytes(_new(key, _MODE_ECB).encrypt(block.to_bytes(8, "big")), "big")


def des_decrypt(block: int, key: bytes) -> int:
    """DES-ECB decryption of a 64-bit integer block."""
    return int.from_bytes(_new(key, _MODE_ECB).decrypt(block.to_bytes(8, "big")), "big")
