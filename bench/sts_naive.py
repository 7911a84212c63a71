"""A deliberately straightforward STS credit-token generator: the yardstick for the engine.

Same stdin/stdout contract as ``python -m vending.sts generate`` for credit requests, written the
obvious way: line-by-line I/O, bit-by-bit STA loops, an unoptimised MISTY1, a fresh DES object per
call. It exists only so bench/sts_generate.py can measure the engine's speed-up on this machine.
Usage: python bench/sts_naive.py < requests.jsonl > results.jsonl
"""

from __future__ import annotations

import hmac
import json
import sys

from Crypto.Cipher import DES

T1 = [14, 10, 7, 9, 12, 3, 2, 5, 13, 0, 15, 1, 4, 8, 6, 11]
T2 = [12, 8, 2, 13, 7, 6, 1, 3, 11, 5, 9, 15, 0, 4, 10, 14]
P = [55, 42, 10, 18, 24, 21, 44, 35, 2, 22, 56, 43, 27, 58, 9, 50, 6, 36, 12, 61, 37, 38, 53, 16, 62, 3, 7, 4,
     32, 20, 63, 25, 51, 52, 54, 33, 49, 19, 46, 29, 48, 31, 23, 30, 41, 28, 13, 5, 40, 60, 39, 11, 15, 17, 1, 0,
     57, 34, 59, 8, 47, 14, 45, 26]  # fmt: skip
M64 = (1 << 64) - 1


def luhn(payload: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def crc16(data: bytes) -> int:
    reg = 0xFFFF
    for byte in data:
        reg ^= byte
        for _ in range(8):
            reg = (reg >> 1) ^ 0xA001 if reg & 1 else reg >> 1
    return ((reg & 0xFF) << 8) | (reg >> 8)


def sta_encrypt(block: int, key: int) -> int:
    k = ((~key & M64) >> 12 | (~key & M64) << 52) & M64
    for _ in range(16):
        out = 0
        for i in range(16):
            nib = (block >> (4 * i)) & 0xF
            table = T2 if (k >> (4 * i + 3)) & 1 else T1
            out |= table[nib] << (4 * i)
        perm = 0
        for j in range(64):
            if (out >> j) & 1:
                perm |= 1 << P[j]
        block = perm
        k = ((k << 1) | (k >> 63)) & M64
    return block


def _s_tables() -> tuple[bytes, list[int]]:
    from vending.sts import misty1  # the S-boxes are data from RFC 2994, shared to avoid a retyping

    return misty1._S7, list(misty1._S9)


S7, S9 = _s_tables()


def fi(x: int, k: int) -> int:
    d9, d7 = x >> 7, x & 0x7F
    d9 = S9[d9] ^ d7
    d7 = (S7[d7] ^ d9) & 0x7F
    d7 ^= k >> 9
    d9 ^= k & 0x1FF
    d9 = S9[d9] ^ d7
    return (d7 << 9) | d9


def misty_encrypt(block: int, key: bytes) -> int:
    ek = [int.from_bytes(key[2 * i : 2 * i + 2], "big") for i in range(8)]
    ek += [fi(ek[i], ek[(i + 1) % 8]) for i in range(8)]

    def fl(x: int, n: int) -> int:
        d0, d1 = x >> 16, x & 0xFFFF
        if n % 2 == 0:
            d1 ^= d0 & ek[n // 2]
            d0 ^= d1 | ek[(n // 2 + 6) % 8 + 8]
        else:
            d1 ^= d0 & ek[((n - 1) // 2 + 2) % 8 + 8]
            d0 ^= d1 | ek[((n - 1) // 2 + 4) % 8]
        return (d0 << 16) | d1

    def fo(x: int, k: int) -> int:
        t0, t1 = x >> 16, x & 0xFFFF
        t0 = fi(t0 ^ ek[k], ek[(k + 5) % 8 + 8]) ^ t1
        t1 = fi(t1 ^ ek[(k + 2) % 8], ek[(k + 1) % 8 + 8]) ^ t0
        t0 = fi(t0 ^ ek[(k + 7) % 8], ek[(k + 3) % 8 + 8]) ^ t1
        t1 ^= ek[(k + 4) % 8]
        return (t1 << 16) | t0

    d0, d1 = block >> 32, block & 0xFFFFFFFF
    for r in range(0, 8, 2):
        d0 = fl(d0, r)
        d1 = fl(d1, r + 1)
        d1 ^= fo(d0, r)
        d0 ^= fo(d1, r + 1)
    d0, d1 = fl(d0, 8), fl(d1, 9)
    return (d1 << 32) | d0


def des(block: int, key: bytes) -> int:
    return int.from_bytes(DES.new(key, DES.MODE_ECB).encrypt(block.to_bytes(8, "big")), "big")


def decoder_key(meter: dict) -> bytes:
    drn = meter["drn"]
    iin = "600727" if len(drn) == 11 else "0000"
    pan = iin + drn + luhn(iin + drn)
    vk = bytes.fromhex(meter["vending_key"])
    if meter["dkga"] == "02":
        x = int(pan[1:17], 16) ^ int(f"{meter['kt']}{meter['sgc']}{meter['ti']:02d}{meter['krn']}FFFFFF", 16)
        return (des(x, vk) ^ x ^ int.from_bytes(vk, "big")).to_bytes(8, "big")
    bits = 128 if meter["ea"] == "11" else 64
    msg = (b"\x04\x0204\x0293\x02" + meter["ea"].encode() + b"\x02" + f"{meter['ti']:02d}".encode()
           + b"\x00\x04\x06" + meter["sgc"].encode() + f"\x01{meter['kt']:x}\x01{meter['krn']:x}\x12".encode()
           + pan.encode() + bits.to_bytes(4, "big"))  # fmt: skip
    return hmac.new(vk, msg, "sha256").digest()[: bits // 8]


def amount(units: int) -> int:
    if units < 16384:
        return units
    offsets = [0, 16384, 180224, 1818624]
    for e in (1, 2, 3):
        m = -(-(units - offsets[e]) // 10**e)
        if m < 16384:
            return (e << 14) | m
    raise ValueError("amount too large")


def main() -> None:
    for line in sys.stdin:
        req = json.loads(line)
        meter, tok = req["meter"], req["token"]
        key = decoder_key(meter)
        body = tok["subclass"] << 44 | tok["rnd"] << 40 | tok["tid"] << 16 | amount(tok["units"])
        block = body << 16 | crc16((tok["class"] << 48 | body).to_bytes(7, "big"))
        ea = meter["ea"]
        if ea == "07":
            enc = sta_encrypt(block, int.from_bytes(key, "big"))
        elif ea == "09":
            enc = des(block, key)
        else:
            enc = misty_encrypt(block, key)
        bit28, bit27 = (enc >> 28) & 1, (enc >> 27) & 1
        enc &= ~(3 << 27)
        t66 = bit28 << 65 | bit27 << 64 | enc | tok["class"] << 27
        print(json.dumps({"tokens": [{"class": 0, "subclass": tok["subclass"], "token": f"{t66:020d}"}]}))


if __name__ == "__main__":
    main()
