"""EA07, the Standard Transfer Algorithm (§6.5.4): 16 keyed substitution + permutation rounds.

Round r (0-based), on a 64-bit block with the aligned key K'_r = ROTL(ROTR(NOT K, 12), r):
  substitution: nibble i goes through T2 if bit 4i+3 of K'_r is 1, else through T1;
  permutation:  out_bit[P[j]] = in_bit[j], entry 0 belonging to bit 0 (the LSB).

Why it is fast in pure Python. Write the keyed substitution as S(x) = T1(x) ^ (D(x) & kmask_r), where
D = T1 ^ T2 per nibble and kmask_r has nibble i all ones when its key bit is set. A bit permutation
is linear and commutes with AND, so a whole round is

    P(S(x)) = P(T1(x)) ^ (P(D(x)) & P(kmask_r)).

P(T1(x)) and P(D(x)) split into eight per-byte tables built once at import; each entry packs both
halves into one 128-bit int, so a round costs eight lookups. P(kmask_r) depends on the key only,
linearly, so the sixteen round masks of a key come from eight more lookups of 1024-bit ints (one
per key byte; the complement and the 12-bit rotation are folded into those tables). Decryption
uses the same trick with P⁻¹ fused into the inverse substitution of the following round.
"""

from __future__ import annotations

from collections.abc import Sequence

# Production tables (§6.5.4): identical in every public implementation and meter firmware.
T1 = (14, 10, 7, 9, 12, 3, 2, 5, 13, 0, 15, 1, 4, 8, 6, 11)
T2 = (12, 8, 2, 13, 7, 6, 1, 3, 11, 5, 9, 15, 0, 4, 10, 14)
P = (
    55, 42, 10, 18, 24, 21, 44, 35, 2, 22, 56, 43, 27, 58, 9, 50,
    6, 36, 12, 61, 37, 38, 53, 16, 62, 3, 7, 4, 32, 20, 63, 25,
    51, 52, 54, 33, 49, 19, 46, 29, 48, 31, 23, 30, 41, 28, 13, 5,
    40, 60, 39, 11, 15, 17, 1, 0, 57, 34, 59, 8, 47, 14, 45, 26,
)  # fmt: skip

# The standard's sample tables, printed for its worked example only; never used by meters.
SAMPLE_T1 = (12, 10, 8, 4, 3, 15, 0, 2, 14, 1, 5, 13, 6, 9, 7, 11)
SAMPLE_T2 = (6, 9, 7, 4, 3, 10, 12, 14, 2, 13, 1, 15, 0, 11, 8, 5)
SAMPLE_P = (
    29, 27, 34, 9, 16, 62, 55, 2, 40, 49, 38, 25, 33, 61, 30, 23,
    1, 41, 21, 57, 42, 15, 5, 58, 19, 53, 22, 17, 48, 28, 24, 39,
    3, 60, 36, 14, 11, 52, 54, 12, 31, 51, 10, 26, 0, 45, 37, 43,
    44, 6, 59, 4, 7, 35, 56, 50, 13, 18, 32, 47, 46, 63, 20, 8,
)  # fmt: skip

ROUNDS = 16
_M64 = (1 << 64) - 1


def inverse(table: Sequence[int]) -> tuple[int, ...]:
    """The inverse of a permutation given as a table (S-box or bit permutation)."""
    inv = [0] * len(table)
    for index, value in enumerate(table):
        inv[value] = index
    return tuple(inv)


def _permute_bits(value: int, perm: Sequence[int]) -> int:
    out = 0
    while value:
        low = value & -value
        out |= 1 << perm[low.bit_length() - 1]
        value ^= low
    return out


def _byte_tables(perm: Sequence[int]) -> list[list[int]]:
    """tables[j][b] = perm(b << 8j): a 64-bit permutation as eight byte lookups."""
    tables = []
    for j in range(8):
        table = [0] * 256
        for b in range(1, 256):
            low = b & -b  # a permutation is linear: add the image of the lowest set bit
            table[b] = table[b ^ low] | 1 << perm[8 * j + low.bit_length() - 1]
        tables.append(table)
    return tables


def _sub_byte(sbox: Sequence[int], b: int) -> int:
    return sbox[b & 15] | sbox[b >> 4] << 4


def _linear_tables(basis: Sequence[int]) -> list[list[int]]:
    """tables[j][b] = XOR of basis[8j + k] over the set bits k of b (a linear map, bytewise)."""
    tables = []
    for j in range(8):
        table = [0] * 256
        for b in range(1, 256):
            low = b & -b
            table[b] = table[b ^ low] ^ basis[8 * j + low.bit_length() - 1]
        tables.append(table)
    return tables


def _aligned_bit(key_bit: int, round_index: int) -> int:
    """Where key bit ``key_bit`` of K sits in K'_r = ROTL(ROTR(K, 12), r) (complement aside)."""
    return (key_bit - 12 + round_index) % 64


def _round_mask(aligned: int, round_index: int, perm: Sequence[int] | None) -> int:
    """Contribution of one aligned key bit to round ``round_index``'s (permuted) nibble mask."""
    if aligned % 4 != 3:
        return 0
    nibble_mask = 0xF << (aligned - 3)
    return nibble_mask if perm is None else _permute_bits(nibble_mask, perm)


def _key_tables(perm: Sequence[int], decrypt: bool) -> list[list[int]]:
    """Byte tables giving the sixteen 64-bit round masks of a key, packed in one 1024-bit int.

    NOT K sets every mask bit of a 0 key bit: masks(K) = L(K) ^ L(all ones), with L linear; the
    constant L(all ones) is folded into the byte-0 table (exactly one entry used per key).
    """
    basis = []
    for key_bit in range(64):
        masks = 0
        for r in range(ROUNDS):
            aligned = _aligned_bit(key_bit, r)
            if decrypt:
                # Decryption consumes rounds 15..1 permuted by P⁻¹, then round 0 unpermuted.
                slot = ROUNDS - 1 - r if r else ROUNDS - 1
                masks |= _round_mask(aligned, r, perm if r else None) << (64 * slot)
            else:
                masks |= _round_mask(aligned, r, perm) << (64 * r)
        basis.append(masks)
    tables = _linear_tables(basis)
    ones = 0
    for j in range(8):
        ones ^= tables[j][255]
    tables[0] = [entry ^ ones for entry in tables[0]]
    return tables


class Sta:
    """STA with a given pair of S-boxes and bit permutation (production or the standard's sample).

    The encryption tables are built at once (a few milliseconds); the decryption ones on the first
    :meth:`decrypt`, so a process that only vends never pays for them.
    """

    def __init__(self, t1: Sequence[int], t2: Sequence[int], perm: Sequence[int]) -> None:
        self._t1, self._t2, self._perm = tuple(t1), tuple(t2), tuple(perm)
        diff = [a ^ b for a, b in zip(t1, t2, strict=True)]
        pb = _byte_tables(perm)
        # Encryption round tables, indexed by the block's bytes (little-endian order): entry b of
        # table j is P(T1(b << 8j)) | P(D(b << 8j)) << 64.
        self._enc = [
            [_perm_lookup(pb, _sub_byte(t1, b) << 8 * j)
             | _perm_lookup(pb, _sub_byte(diff, b) << 8 * j) << 64 for b in range(256)]
            for j in range(8)
        ]  # fmt: skip
        self._key_enc = _key_tables(perm, decrypt=False)
        self._dec: list[list[int]] | None = None

    def _build_decryption(self) -> list[list[int]]:
        """Build the decryption tables on first use (encrypt-only users never pay for them); return them."""
        t1, t2, perm = self._t1, self._t2, self._perm
        t1inv, t2inv, pinv = inverse(t1), inverse(t2), inverse(perm)
        diffinv = [a ^ b for a, b in zip(t1inv, t2inv, strict=True)]
        pib = _byte_tables(pinv)
        # The first P⁻¹ on its own, then P⁻¹(T1⁻¹(byte)) | P⁻¹(D⁻¹(byte)) << 64 for rounds 15..1,
        # then the last inverse substitution without a permutation.
        self._pinv = pib
        self._dec_last = [
            [_sub_byte(t1inv, b) << 8 * j | _sub_byte(diffinv, b) << (64 + 8 * j) for b in range(256)] for j in range(8)
        ]
        self._key_dec = _key_tables(pinv, decrypt=True)
        self._dec = dec = [
            [
                _perm_lookup(pib, _sub_byte(t1inv, b) << 8 * j)
                | _perm_lookup(pib, _sub_byte(diffinv, b) << 8 * j) << 64
                for b in range(256)
            ]
            for j in range(8)
        ]
        return dec

    def encrypt(self, block: int, key: int) -> int:
        """Encrypt a 64-bit block under a 64-bit key (both as big-endian integers).

        The sixteen rounds are unrolled; ``to_bytes`` splits the block into its eight bytes in
        one call, cheaper than eight shift-and-mask pairs.
        """
        k0, k1, k2, k3, k4, k5, k6, k7 = self._key_enc
        c0, c1, c2, c3, c4, c5, c6, c7 = key.to_bytes(8, "little")
        masks = k0[c0] ^ k1[c1] ^ k2[c2] ^ k3[c3] ^ k4[c4] ^ k5[c5] ^ k6[c6] ^ k7[c7]
        e0, e1, e2, e3, e4, e5, e6, e7 = self._enc
        m64 = _M64
        x = block
        c0, c1, c2, c3, c4, c5, c6, c7 = x.to_bytes(8, "little")
        a = e0[c0] ^ e1[c1] ^ e2[c2] ^ e3[c3] ^ e4[c4] ^ e5[c5] ^ e6[c6] ^ e7[c7]
        x = (a & m64) ^ (a >> 64 & masks)
        masks >>= 64
        c0, c1, c2, c3, c4, c5, c6, c7 = x.to_bytes(8, "little")
        a = e0[c0] ^ e1[c1] ^ e2[c2] ^ e3[c3] ^ e4[c4] ^ e5[c5] ^ e6[c6] ^ e7[c7]
        x = (a & m64) ^ (a >> 64 & masks)
        masks >>= 64
        c0, c1, c2, c3, c4, c5, c6, c7 = x.to_bytes(8, "little")
        a = e0[c0] ^ e1[c1] ^ e2[c2] ^ e3[c3] ^ e4[c4] ^ e5[c5] ^ e6[c6] ^ e7[c7]
        x = (a & m64) ^ (a >> 64 & masks)
        masks >>= 64
        c0, c1, c2, c3, c4, c5, c6, c7 = x.to_bytes(8, "little")
        a = e0[c0] ^ e1[c1] ^ e2[c2] ^ e3[c3] ^ e4[c4] ^ e5[c5] ^ e6[c6] ^ e7[c7]
        x = (a & m64) ^ (a >> 64 & masks)
        masks >>= 64
        c0, c1, c2, c3, c4, c5, c6, c7 = x.to_bytes(8, "little")
        a = e0[c0] ^ e1[c1] ^ e2[c2] ^ e3[c3] ^ e4[c4] ^ e5[c5] ^ e6[c6] ^ e7[c7]
        x = (a & m64) ^ (a >> 64 & masks)
        masks >>= 64
        c0, c1, c2, c3, c4, c5, c6, c7 = x.to_bytes(8, "little")
        a = e0[c0] ^ e1[c1] ^ e2[c2] ^ e3[c3] ^ e4[c4] ^ e5[c5] ^ e6[c6] ^ e7[c7]
        x = (a & m64) ^ (a >> 64 & masks)
        masks >>= 64
        c0, c1, c2, c3, c4, c5, c6, c7 = x.to_bytes(8, "little")
        a = e0[c0] ^ e1[c1] ^ e2[c2] ^ e3[c3] ^ e4[c4] ^ e5[c5] ^ e6[c6] ^ e7[c7]
        x = (a & m64) ^ (a >> 64 & masks)
        masks >>= 64
        c0, c1, c2, c3, c4, c5, c6, c7 = x.to_bytes(8, "little")
        a = e0[c0] ^ e1[c1] ^ e2[c2] ^ e3[c3] ^ e4[c4] ^ e5[c5] ^ e6[c6] ^ e7[c7]
        x = (a & m64) ^ (a >> 64 & masks)
        masks >>= 64
        c0, c1, c2, c3, c4, c5, c6, c7 = x.to_bytes(8, "little")
        a = e0[c0] ^ e1[c1] ^ e2[c2] ^ e3[c3] ^ e4[c4] ^ e5[c5] ^ e6[c6] ^ e7[c7]
        x = (a & m64) ^ (a >> 64 & masks)
        masks >>= 64
        c0, c1, c2, c3, c4, c5, c6, c7 = x.to_bytes(8, "little")
        a = e0[c0] ^ e1[c1] ^ e2[c2] ^ e3[c3] ^ e4[c4] ^ e5[c5] ^ e6[c6] ^ e7[c7]
        x = (a & m64) ^ (a >> 64 & masks)
        masks >>= 64
        c0, c1, c2, c3, c4, c5, c6, c7 = x.to_bytes(8, "little")
        a = e0[c0] ^ e1[c1] ^ e2[c2] ^ e3[c3] ^ e4[c4] ^ e5[c5] ^ e6[c6] ^ e7[c7]
        x = (a & m64) ^ (a >> 64 & masks)
        masks >>= 64
        c0, c1, c2, c3, c4, c5, c6, c7 = x.to_bytes(8, "little")
        a = e0[c0] ^ e1[c1] ^ e2[c2] ^ e3[c3] ^ e4[c4] ^ e5[c5] ^ e6[c6] ^ e7[c7]
        x = (a & m64) ^ (a >> 64 & masks)
        masks >>= 64
        c0, c1, c2, c3, c4, c5, c6, c7 = x.to_bytes(8, "little")
        a = e0[c0] ^ e1[c1] ^ e2[c2] ^ e3[c3] ^ e4[c4] ^ e5[c5] ^ e6[c6] ^ e7[c7]
        x = (a & m64) ^ (a >> 64 & masks)
        masks >>= 64
        c0, c1, c2, c3, c4, c5, c6, c7 = x.to_bytes(8, "little")
        a = e0[c0] ^ e1[c1] ^ e2[c2] ^ e3[c3] ^ e4[c4] ^ e5[c5] ^ e6[c6] ^ e7[c7]
        x = (a & m64) ^ (a >> 64 & masks)
        masks >>= 64
        c0, c1, c2, c3, c4, c5, c6, c7 = x.to_bytes(8, "little")
        a = e0[c0] ^ e1[c1] ^ e2[c2] ^ e3[c3] ^ e4[c4] ^ e5[c5] ^ e6[c6] ^ e7[c7]
        x = (a & m64) ^ (a >> 64 & masks)
        masks >>= 64
        c0, c1, c2, c3, c4, c5, c6, c7 = x.to_bytes(8, "little")
        a = e0[c0] ^ e1[c1] ^ e2[c2] ^ e3[c3] ^ e4[c4] ^ e5[c5] ^ e6[c6] ^ e7[c7]
        return (a & m64) ^ (a >> 64 & masks)

    def decrypt(self, block: int, key: int) -> int:
        """Decrypt a 64-bit block under a 64-bit key: undo the rounds from 15 down to 0."""
        dec = self._dec
        if dec is None:
            dec = self._build_decryption()
        k0, k1, k2, k3, k4, k5, k6, k7 = self._key_dec
        masks = (
            k0[key & 255]
            ^ k1[key >> 8 & 255]
            ^ k2[key >> 16 & 255]
            ^ k3[key >> 24 & 255]
            ^ k4[key >> 32 & 255]
            ^ k5[key >> 40 & 255]
            ^ k6[key >> 48 & 255]
            ^ k7[key >> 56]
        )
        p0, p1, p2, p3, p4, p5, p6, p7 = self._pinv
        x = block
        u = (
            p0[x & 255]
            ^ p1[x >> 8 & 255]
            ^ p2[x >> 16 & 255]
            ^ p3[x >> 24 & 255]
            ^ p4[x >> 32 & 255]
            ^ p5[x >> 40 & 255]
            ^ p6[x >> 48 & 255]
            ^ p7[x >> 56]
        )
        d0, d1, d2, d3, d4, d5, d6, d7 = dec
        m64 = _M64
        for _ in range(ROUNDS - 1):
            acc = (
                d0[u & 255]
                ^ d1[u >> 8 & 255]
                ^ d2[u >> 16 & 255]
                ^ d3[u >> 24 & 255]
                ^ d4[u >> 32 & 255]
                ^ d5[u >> 40 & 255]
                ^ d6[u >> 48 & 255]
                ^ d7[u >> 56]
            )
            u = (acc & m64) ^ (acc >> 64 & masks)
            masks >>= 64
        d0, d1, d2, d3, d4, d5, d6, d7 = self._dec_last
        acc = (
            d0[u & 255]
            ^ d1[u >> 8 & 255]
            ^ d2[u >> 16 & 255]
            ^ d3[u >> 24 & 255]
            ^ d4[u >> 32 & 255]
            ^ d5[u >> 40 & 255]
            ^ d6[u >> 48 & 255]
            ^ d7[u >> 56]
        )
        return (acc & m64) ^ (acc >> 64 & masks)


def _perm_lookup(tables: list[list[int]], value: int) -> int:
    """Apply a byte-tabled permutation to a 64-bit value."""
    out = 0
    for j in range(8):
        out |= tables[j][value >> 8 * j & 255]
    return out


PRODUCTION = Sta(T1, T2, P)
_sample: Sta | None = None


def sample() -> Sta:
    """STA with the standard's sample tables (for its worked example; built on first use)."""
    global _sample
    if _sample is None:
        _sample = Sta(SAMPLE_T1, SAMPLE_T2, SAMPLE_P)
    return _sample


encrypt = PRODUCTION.encrypt
decrypt = PRODUCTION.decrypt
