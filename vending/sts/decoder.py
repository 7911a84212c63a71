"""Decoding a token back into its fields (the meter's side, §7.3 steps 1-4), statelessly.

Order: 20 digits and value < 2^66 (Format), class from bits 28/27, decryption for classes 0 and 2,
CRC over Class ‖ top 48 block bits. TID memory and key expiry are the virtual meter's business.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vending.sts.amount import decode_amount
from vending.sts.ciphers import decrypt_block
from vending.sts.config import MeterConfig
from vending.sts.crc import token_crc, token_crc_c
from vending.sts.dkga import derive_decoder_key
from vending.sts.errors import CrcError, RequestError, TokenFormatError
from vending.sts.tokens import CREDIT, MANAGEMENT, MANAGEMENT_VALUES, TEST
from vending.sts.transpose import extract_class, parse


@dataclass(frozen=True, slots=True)
class DecodedToken:
    """A token's class, subclass and fields, named as in a generate request (``tid``, ``units``,
    ``watts``, ``register``, ``control``, ``mfr_code``, ``ken_high``, ``krn``, ``ro``, ...)."""

    token_class: int
    subclass: int
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def tid(self) -> int | None:
        return self.fields.get("tid")

    @property
    def units(self) -> int | None:
        return self.fields.get("units")

    @property
    def is_key_change(self) -> bool:
        return self.token_class == MANAGEMENT and self.subclass in (3, 4, 8, 9)

    def as_dict(self) -> dict[str, Any]:
        """The CLI's decode result: ``{"class", "subclass", **fields}``."""
        return {"class": self.token_class, "subclass": self.subclass, **self.fields}


def _crc_mismatch() -> CrcError:
    return CrcError("CRC mismatch: the token was made for another meter or key, or a digit was mistyped")


def body_fields(token_class: int, subclass: int, body: int) -> dict[str, Any]:
    """Named fields of a 44-bit body (block bits 59..16)."""
    if token_class == TEST:
        if subclass == 0:
            return {"control": body >> 8, "mfr_code": body & 0xFF}
        if subclass == 1:
            return {"control": body >> 16, "mfr_code": body & 0xFFFF}
        return {"body": body}
    rnd, tid, value = body >> 40, body >> 16 & 0xFFFFFF, body & 0xFFFF
    if token_class == CREDIT:
        if subclass < 4:
            return {"rnd": rnd, "tid": tid, "units": decode_amount(value)}
        if subclass < 8:
            # Currency (2018 edition): S&E replaces RND; reported raw, not applied.
            return {"sign_exponent": rnd, "tid": tid, "amount_field": value}
        return {"body": body}
    if subclass == 3:
        return {
            "ken_high": body >> 40,
            "krn": body >> 36 & 0xF,
            "ro": body >> 35 & 1,
            "res": body >> 34 & 1,
            "kt": body >> 32 & 0b11,
            "key_part": f"{body & 0xFFFFFFFF:08x}",
        }
    if subclass == 4:
        return {"ken_low": body >> 40, "ti": body >> 32 & 0xFF, "key_part": f"{body & 0xFFFFFFFF:08x}"}
    if subclass in (8, 9):
        name = "sgc_low" if subclass == 8 else "sgc_high"
        return {name: body >> 32, "key_part": f"{body & 0xFFFFFFFF:08x}"}
    if subclass in MANAGEMENT_VALUES:
        name = MANAGEMENT_VALUES[subclass]
        return {"rnd": rnd, "tid": tid, name: decode_amount(value) if subclass in (0, 6) else value}
    return {"body": body}


def decode_block(token: str, ea: str | None, key: bytes | None) -> tuple[int, int]:
    """``(class, plaintext block)`` of a token after the format and CRC checks."""
    token_class, block = extract_class(parse(token))
    if token_class == 3:
        raise TokenFormatError("class 3 is reserved: no token has it")
    if token_class != TEST:
        if key is None or ea is None:
            raise RequestError("decoding a class 0 or 2 token needs the meter's decoder key")
        block = decrypt_block(ea, key, block)
    block48 = block >> 16
    subclass = block >> 60
    crc = token_crc_c if token_class == CREDIT and 4 <= subclass <= 7 else token_crc
    if crc(token_class, block48) != block & 0xFFFF:
        raise _crc_mismatch()
    return token_class, block


def decode_token(token: str, config: MeterConfig | None = None, *, decoder_key: bytes | None = None) -> DecodedToken:
    """Decode a 20-digit token for a meter; raises a :class:`StsError` child saying why not.

    Class 1 tokens need no config. ``decoder_key`` overrides the config's key (or derivation).
    """
    ea = config.ea if config is not None else ("11" if decoder_key is not None and len(decoder_key) == 16 else "07")
    key = decoder_key
    if key is None and config is not None:
        # Only derive when the token is encrypted; class 1 needs no key.
        token_class, _ = extract_class(parse(token))
        if token_class in (CREDIT, MANAGEMENT):
            key = derive_decoder_key(config)
    token_class, block = decode_block(token, ea, key)
    subclass = block >> 60
    body = block >> 16 & ((1 << 44) - 1)
    return DecodedToken(token_class, subclass, body_fields(token_class, subclass, body))
