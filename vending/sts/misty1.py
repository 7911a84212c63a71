"""EA11: MISTY1 (RFC 2994) with a 128-bit key, 8 rounds, on the block as 8 big-endian bytes.

Table-driven. FI(x, k) is S9/S7 mixing, a XOR with the whole 16-bit subkey (the RFC's
``d7 ^= k >> 9; d9 ^= k & 0x1ff`` is exactly ``^ k`` on the packed ``d7 << 9 | d9``), then more
S9/S7 mixing; so FI(x, k) = _FI2[_FI1[x] ^ k] with two 65 536-entry tables built once at import.
"""

from __future__ import annotations

import struct
import sys
from array import array

_S7 = bytes.fromhex(
    "1b32335a3b1017545b1a72736b2c66491f24136c372e3f4a5d0f405625511c04"
    "0b46200d7b3544422b1e41144b79156f0e550936740c6753280a7e3802076029"
    "1912652f303908685f782a4c6445753d594803577c4f623c1d215e276a704d3a"
    "016d6e6318772305267600312d7a7f61502211064716524e713e6943345c587d"
)
# S9 as 512 three-hex-digit entries (RFC 2994 §2.3).
_S9_HEX = (
    "1c30cb15319f1e30e90fb0351810b91171eb13300902d0d30c714a03707e0eb1641931d80a311e05502c01d1a2163118"
    "14b1521d200f02b03013a0e511113818e0630e30c81f401b00109d0f81a016d1f301c14607d0d10821ea18312d0f419e"
    "1d30dd1e21281e00ec05909101112f0260dc0b018c10f1f70e716c0b60f90d815110114c1030b815412b1ae01707100c"
    "04705807f1a413412908415d19d1b21a304807c0511ca02313d1a716503b0420da1920ce0c106b09f1f112c1840fa196"
    "1e116917d03118010a0941da18613e11c0601751cf06711906506809915000800717c0b70240190de1270db0e41a9052"
    "10909019c1c10281b313516a1760df1e51880c516e1de1b10c31df0360ee1ee0f009304909a1b606908112500b05e0b4"
    "1491c717403e13b1b708e1c60ae0100951ef04e0f21fd0850fd0f60a016f08308a15609b13c1071670981d01e90031fe"
    "0bd1220890d218f01203306a1420ed17011b0e214f15813114705d1131cd0791611a517909e1b40cc02213201a0e8004"
    "1871ed1970391bf1d702718b0c609c0d014e06c0341f206e0ca0250ba1910fe01310602f1ad1721db0c010b1d60f51ec"
    "10d0761141ab07510c1e415905411f04b0c41be0f70290a400e1f007704d17a08608b0b31710bf10e10409715b160168"
    "0d70bb0661ce0fc0921c506f01604a0a11390af0f119000a1aa14317b05618d1660d41fb14d19419a0871f81230a71b8"
    "14103c1f914002a15511a1a11980d51261af06112e1571dc07218a0aa0961150ef04507b08d14505305f1780b202e020"
    "1d503f1c91e71ac0440380140b116b0ab0b505a1821c81d40181770640cf06d10019913015a0051201bb1bd0e004f0d6"
    "13f1c412a0150060ff19b0a604308805015f1e812107317e0bc0c20c91731891f50741cc1e61a819501f04100d1ba032"
    "03d1d10800a80571b91621480d910506207a0211ff1121081c00a911d1b01a60cd0f305c10205b1d91441f60ad0a503a"
    "1cb13617f0460e101e1dd0e61371fa18508c08f0401b50be0780000ac11015e1240021bc0a20ea0701fc11615c04c1c2"
)
_S9 = tuple(int(_S9_HEX[i : i + 3], 16) for i in range(0, len(_S9_HEX), 3))


def _fi_first_half(x: int) -> int:
    d9, d7 = x >> 7, x & 0x7F
    d9 = _S9[d9] ^ d7
    d7 = (_S7[d7] ^ d9) & 0x7F
    return d7 << 9 | d9


def _fi_second_half(y: int) -> int:
    d7, d9 = y >> 9, y & 0x1FF
    return d7 << 9 | (_S9[d9] ^ d7)


# The 8 key words of a 16-byte key; raises struct.error for any other length.
_unpack_key = struct.Struct(">8H").unpack

# The two halves above, tabulated for every 16-bit input.
#
# Stored as arrays of 16-bit words (128 KiB each), not lists: a list of 65 536 ints is a 512 KiB
# pointer table plus 2 MiB of int objects, and with keys changing per token the lookups land all
# over it, two cache misses each. Measured on 20 000 random keys the arrays make an encryption
# about 3x faster, although each lookup has to create its int.
#
# Built a row at a time with one big-int XOR per row (every process using EA11 pays this at
# start-up: about 1 ms, against 10 ms for a comprehension and 17 ms calling the functions above).
# A row is a constant XORed into every 16-bit lane of a fixed vector:
#   _FI2[d7 << 9 | d9] = d7 << 9 | (S9[d9] ^ d7) = S9[d9] ^ 513·d7
#   _FI1[d9 << 7 | d7] = ((S7[d7] ^ d7) << 9 | d7) ^ ((S9[d9] & 0x7F) << 9 | S9[d9])
# tests/sts/test_standard_examples.py checks both tables against the two functions.


def _rows(vector: list[int], constants: list[int]) -> array:
    """array("H") of ``vector`` XOR c (lane by lane) for each c in ``constants``, concatenated."""
    order, width = sys.byteorder, 2 * len(vector)
    lanes = int.from_bytes(array("H", [1] * len(vector)).tobytes(), order)
    packed = int.from_bytes(array("H", vector).tobytes(), order)
    table = array("H")
    table.frombytes(b"".join((packed ^ c * lanes).to_bytes(width, order) for c in constants))
    return table


_FI1 = _rows([(_S7[d7] ^ d7) << 9 | d7 for d7 in range(128)], [(s9 & 0x7F) << 9 | s9 for s9 in _S9])
_FI2 = _rows(list(_S9), [513 * d7 for d7 in range(128)])


def fi(x: int, k: int) -> int:
    """The FI function of RFC 2994 on a 16-bit input and 16-bit subkey."""
    return _FI2[_FI1[x] ^ k]


def expand_key(key: bytes) -> tuple[int, ...]:
    """The 16 expanded-key words EK[0..15] of RFC 2994 §2.2 for a 16-byte key."""
    if len(key) != 16:
        raise ValueError("MISTY1 takes a 16-byte key")
    k = [int.from_bytes(key[i : i + 2], "big") for i in range(0, 16, 2)]
    return (*k, *(fi(k[i], k[(i + 1) % 8]) for i in range(8)))


def _round_keys(ek: tuple[int, ...]) -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, int], ...]]:
    """FO subkeys (KO1, KI1, KO2, KI2, KO3, KI3, KO4) per round and FL subkeys (KL1, KL2) per FL."""
    fo = tuple(
        (ek[r], ek[(r + 5) % 8 + 8], ek[(r + 2) % 8], ek[(r + 1) % 8 + 8],
         ek[(r + 7) % 8], ek[(r + 3) % 8 + 8], ek[(r + 4) % 8])
        for r in range(8)
    )  # fmt: skip
    fl = tuple(
        (ek[n // 2], ek[(n // 2 + 6) % 8 + 8]) if n % 2 == 0
        else (ek[((n - 1) // 2 + 2) % 8 + 8], ek[((n - 1) // 2 + 4) % 8])
        for n in range(10)
    )  # fmt: skip
    return fo, fl


def _fo(x: int, keys: tuple[int, ...]) -> int:
    ko1, ki1, ko2, ki2, ko3, ki3, ko4 = keys
    f1, f2 = _FI1, _FI2
    t0, t1 = x >> 16, x & 0xFFFF
    t0 = f2[f1[t0 ^ ko1] ^ ki1] ^ t1
    t1 = f2[f1[t1 ^ ko2] ^ ki2] ^ t0
    t0 = f2[f1[t0 ^ ko3] ^ ki3] ^ t1
    return (t1 ^ ko4) << 16 | t0


def _fl(x: int, keys: tuple[int, int]) -> int:
    kl1, kl2 = keys
    d0, d1 = x >> 16, x & 0xFFFF
    d1 ^= d0 & kl1
    d0 ^= d1 | kl2
    return d0 << 16 | d1


def _fl_inv(x: int, keys: tuple[int, int]) -> int:
    kl1, kl2 = keys
    d0, d1 = x >> 16, x & 0xFFFF
    d0 ^= d1 | kl2
    d1 ^= d0 & kl1
    return d0 << 16 | d1


def encrypt_with_key(key: bytes, block: int) -> int:
    """One-shot MISTY1 encryption: key schedule and all 8 rounds unrolled for speed.

    Vending to many meters uses each key once, so the schedule is not worth keeping; this path
    avoids building any per-key object. Equivalent to ``Misty1(key).encrypt(block)``. The halves
    D0 = a0 ‖ b0 and D1 = a1 ‖ b1 stay as four 16-bit words throughout (no packing per round);
    ``k0..k7`` are EK[0..7] (the key words), ``j0..j7`` EK[8..15] (K'_i = FI(K_i, K_{i+1})). Round
    subkeys as in :func:`_round_keys`: FO(n) takes KO1 = k_n, KI1 = j_(n+5), KO2 = k_(n+2),
    KI2 = j_(n+1), KO3 = k_(n+7), KI3 = j_(n+3), KO4 = k_(n+4); FL(2h) takes k_h, j_(h+6) and
    FL(2h+1) j_(h+2), k_(h+4) (indices mod 8). Generated; checked against :class:`Misty1`.
    """
    f1, f2 = _FI1, _FI2
    k0, k1, k2, k3, k4, k5, k6, k7 = _unpack_key(key)
    j0, j1, j2, j3 = f2[f1[k0] ^ k1], f2[f1[k1] ^ k2], f2[f1[k2] ^ k3], f2[f1[k3] ^ k4]
    j4, j5, j6, j7 = f2[f1[k4] ^ k5], f2[f1[k5] ^ k6], f2[f1[k6] ^ k7], f2[f1[k7] ^ k0]
    a0, b0, a1, b1 = block >> 48, block >> 32 & 0xFFFF, block >> 16 & 0xFFFF, block & 0xFFFF
    # rounds 0 and 1
    b0 ^= a0 & k0
    a0 ^= b0 | j6
    b1 ^= a1 & j2
    a1 ^= b1 | k4
    t = f2[f1[a0 ^ k0] ^ j5] ^ b0
    u = f2[f1[b0 ^ k2] ^ j1] ^ t
    b1 ^= f2[f1[t ^ k7] ^ j3] ^ u
    a1 ^= u ^ k4
    t = f2[f1[a1 ^ k1] ^ j6] ^ b1
    u = f2[f1[b1 ^ k3] ^ j2] ^ t
    b0 ^= f2[f1[t ^ k0] ^ j4] ^ u
    a0 ^= u ^ k5
    # rounds 2 and 3
    b0 ^= a0 & k1
    a0 ^= b0 | j7
    b1 ^= a1 & j3
    a1 ^= b1 | k5
    t = f2[f1[a0 ^ k2] ^ j7] ^ b0
    u = f2[f1[b0 ^ k4] ^ j3] ^ t
    b1 ^= f2[f1[t ^ k1] ^ j5] ^ u
    a1 ^= u ^ k6
    t = f2[f1[a1 ^ k3] ^ j0] ^ b1
    u = f2[f1[b1 ^ k5] ^ j4] ^ t
    b0 ^= f2[f1[t ^ k2] ^ j6] ^ u
    a0 ^= u ^ k7
    # rounds 4 and 5
    b0 ^= a0 & k2
    a0 ^= b0 | j0
    b1 ^= a1 & j4
    a1 ^= b1 | k6
    t = f2[f1[a0 ^ k4] ^ j1] ^ b0
    u = f2[f1[b0 ^ k6] ^ j5] ^ t
    b1 ^= f2[f1[t ^ k3] ^ j7] ^ u
    a1 ^= u ^ k0
    t = f2[f1[a1 ^ k5] ^ j2] ^ b1
    u = f2[f1[b1 ^ k7] ^ j6] ^ t
    b0 ^= f2[f1[t ^ k4] ^ j0] ^ u
    a0 ^= u ^ k1
    # rounds 6 and 7
    b0 ^= a0 & k3
    a0 ^= b0 | j1
    b1 ^= a1 & j5
    a1 ^= b1 | k7
    t = f2[f1[a0 ^ k6] ^ j3] ^ b0
    u = f2[f1[b0 ^ k0] ^ j7] ^ t
    b1 ^= f2[f1[t ^ k5] ^ j1] ^ u
    a1 ^= u ^ k2
    t = f2[f1[a1 ^ k7] ^ j4] ^ b1
    u = f2[f1[b1 ^ k1] ^ j0] ^ t
    b0 ^= f2[f1[t ^ k6] ^ j2] ^ u
    a0 ^= u ^ k3
    # final FL layer: FL(D0, 8) with k4, j2; FL(D1, 9) with j6, k0
    b0 ^= a0 & k4
    a0 ^= b0 | j2
    b1 ^= a1 & j6
    a1 ^= b1 | k0
    return a1 << 48 | b1 << 32 | a0 << 16 | b0


class Misty1:
    """MISTY1 under one key; build once per key and reuse (the key schedule costs 8 FI calls)."""

    __slots__ = ("_fl", "_fo")

    def __init__(self, key: bytes) -> None:
        self._fo, self._fl = _round_keys(expand_key(key))

    def __repr__(self) -> str:
        return "Misty1(<key hidden>)"

    def encrypt(self, block: int) -> int:
        """Encrypt a 64-bit block (big-endian integer)."""
        fo, fl = self._fo, self._fl
        d0, d1 = block >> 32, block & 0xFFFFFFFF
        for r in range(0, 8, 2):
            d0 = _fl(d0, fl[r])
            d1 = _fl(d1, fl[r + 1]) ^ _fo(d0, fo[r])
            d0 ^= _fo(d1, fo[r + 1])
        d0 = _fl(d0, fl[8])
        d1 = _fl(d1, fl[9])
        return d1 << 32 | d0

    def decrypt(self, block: int) -> int:
        """Decrypt a 64-bit block (big-endian integer)."""
        fo, fl = self._fo, self._fl
        d1, d0 = block >> 32, block & 0xFFFFFFFF
        d0 = _fl_inv(d0, fl[8])
        d1 = _fl_inv(d1, fl[9])
        for r in range(6, -1, -2):
            d0 ^= _fo(d1, fo[r + 1])
            d1 ^= _fo(d0, fo[r])
            d0 = _fl_inv(d0, fl[r])
            d1 = _fl_inv(d1, fl[r + 1])
        return d0 << 32 | d1
