"""CRC-16 of a token (IEC 62055-41 §6.3.7): CRC-16/MODBUS over 7 big-endian bytes.

The 50 bits Class ‖ SubClass ‖ body are padded to 56 bits and fed most significant byte first. The
token field holds the register byte-swapped (MODBUS transmission order read as a big-endian word).
"""

from __future__ import annotations


def _make_table() -> list[int]:
    # Reflected polynomial 0xA001 (0x8005 bit-reversed): one entry per possible low byte.
    table = []
    for byte in range(256):
        reg = byte
        for _ in range(8):
            reg = (reg >> 1) ^ 0xA001 if reg & 1 else reg >> 1
        table.append(reg)
    return table


_TABLE: list[int] = _make_table()


def crc16_register(value56: int, extra: bytes = b"") -> int:
    """The raw CRC-16/MODBUS register over ``value56`` as 7 big-endian bytes (plus ``extra``)."""
    t = _TABLE
    reg = 0xFFFF
    # Unrolled over the 7 bytes: this runs once per token, so the loop overhead shows.
    reg = (reg >> 8) ^ t[(reg ^ (value56 >> 48)) & 0xFF]
    reg = (reg >> 8) ^ t[(reg ^ (value56 >> 40)) & 0xFF]
    reg = (reg >> 8) ^ t[(reg ^ (value56 >> 32)) & 0xFF]
    reg = (reg >> 8) ^ t[(reg ^ (value56 >> 24)) & 0xFF]
    reg = (reg >> 8) ^ t[(reg ^ (value56 >> 16)) & 0xFF]
    reg = (reg >> 8) ^ t[(reg ^ (value56 >> 8)) & 0xFF]
    reg = (reg >> 8) ^ t[(reg ^ value56) & 0xFF]
    for byte in extra:
        reg = (reg >> 8) ^ t[(reg ^ byte) & 0xFF]
    return reg


def token_crc(token_class: int, block48: int) -> int:
    """The 16-bit CRC field for a token of ``token_class`` whose block bits 63..16 are ``block48``."""
    reg = crc16_register((token_class << 48) | block48)
    return ((reg & 0xFF) << 8) | (reg >> 8)


def token_crc_c(token_class: int, block48: int) -> int:
    """CRC_C (§6.3.22), used by the currency subclasses: one extra byte 0x01 after the 7 bytes."""
    reg = crc16_register((token_class << 48) | block48, b"\x01")
    return ((reg & 0xFF) << 8) | (reg >> 8)
