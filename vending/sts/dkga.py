"""Decoder key generation (§6.5.3): DKGA02 (DES) and DKGA04 (HMAC-SHA-256).

The decoder key ties tokens to one meter: it mixes the utility's vending key with the meter's
identity (PANBlock) and settings (CONTROLBlock: KT, SGC, TI, KRN). See docs/STS.md §9.
"""

from __future__ import annotations

from vending.sts.dea import des_encrypt
from vending.sts.errors import KeyLengthError, RequestError
from vending.sts.identity import pan_block

# config (dataclasses) and hmac (OpenSSL) load on first use: the CLI's fast path imports this
# module for control_block and dkga04_message only, and every millisecond of start-up counts there.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from vending.sts.config import MeterConfig

_BASE_DATE_LABEL = {1993: b"93", 2014: b"14", 2035: b"35"}


def control_block(kt: int, sgc: str, ti: int, krn: int) -> int:
    """CONTROLBlock: KT ‖ SGC ‖ TI ‖ KRN ‖ FFFFFF as 16 nibbles (TI as two decimal digits)."""
    return int(f"{kt}{sgc}{ti:02d}{krn}FFFFFF", 16)


def dkga02(vending_key: bytes, pan_blk: int, ctrl_blk: int) -> bytes:
    """DKGA02: DK = DES(VK, X) XOR X XOR VK with X = PANBlock XOR CONTROLBlock."""
    x = pan_blk ^ ctrl_blk
    dk = des_encrypt(x, vending_key) ^ x ^ int.from_bytes(vending_key, "big")
    return dk.to_bytes(8, "big")


def dkga04_message(*, base_date: int, ea: str, ti: int, sgc: str, kt: int, krn: int, pan: str, key_bits: int) -> bytes:
    """The HMAC message of DKGA04: label ‖ 00 ‖ context ‖ L, as in docs/STS.md §9."""
    return b"".join(
        (
            b"\x04\x0204\x02",
            _BASE_DATE_LABEL[base_date],
            b"\x02",
            ea.encode(),
            b"\x02",
            b"%02d" % ti,
            b"\x00\x04\x06",
            sgc.encode(),
            b"\x01%x\x01%x\x12" % (kt, krn),
            pan.encode(),
            key_bits.to_bytes(4, "big"),
        )
    )


def dkga04(vending_key: bytes, message: bytes, key_bytes: int) -> bytes:
    """DKGA04: the first ``key_bytes`` bytes of HMAC-SHA-256(VK, message)."""
    import hmac

    return hmac.digest(vending_key, message, "sha256")[:key_bytes]


def derive_decoder_key(config: MeterConfig) -> bytes:
    """The meter's decoder key: ``config.decoder_key`` if given, else derived by its DKGA."""
    if config.decoder_key is not None:
        return config.decoder_key
    vk = config.vending_key
    if vk is None:
        raise RequestError("the meter needs a vending_key (with its dkga) or a decoder_key")
    if config.pan is None:
        raise RequestError("the meter needs a pan or a drn to derive its decoder key")
    if config.dkga == "02":
        if len(vk) != 8:
            raise KeyLengthError("DKGA02 takes an 8-byte (16 hex digit) vending key")
        return dkga02(vk, pan_block(config.pan, config.kt), control_block(config.kt, config.sgc, config.ti, config.krn))
    if len(vk) != 20:
        raise KeyLengthError("DKGA04 takes a 20-byte (40 hex digit) vending key")
    from vending.sts.config import decoder_key_bytes

    size = decoder_key_bytes(config.ea)
    message = dkga04_message(
        base_date=config.base_date,
        ea=config.ea,
        ti=config.ti,
        sgc=config.sgc,
        kt=config.kt,
        krn=config.krn,
        pan=config.pan,
        key_bits=size * 8,
    )
    return dkga04(vk, message, size)
