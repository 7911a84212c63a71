"""Key change token sets for many meters at once (key change campaigns, 10^5-10^6 meters).

``key_change_tokens`` is general: it takes two validated ``MeterConfig``s per meter and derives both
decoder keys through the general path. A campaign moves thousands of meters between the same two
supply groups, so everything that belongs to a supply group (its vending key and its DES schedule,
the DKGA04 message around the PAN, the CONTROLBlock for a given KT/TI/KRN, the cipher) is worked out
once in :class:`KeyChangeBatch`, and each meter costs two key derivations, the 2 or 4 encryptions
and the check that each section decrypts back to itself under the meter's current key.

Same tokens as ``key_change_tokens(current, new, ro=ro)`` for the same meter configurations; the
tests check the two agree for every DKGA/EA and key type.
"""

from __future__ import annotations

import hmac

from vending.sts.ciphers import decrypt_block, encrypt_block
from vending.sts.config import MeterConfig, decoder_key_bytes
from vending.sts.dea import des_encryptor
from vending.sts.dkga import control_block, dkga04_message
from vending.sts.errors import RequestError
from vending.sts.identity import check_pan, pan_block
from vending.sts.tid import BASE_DATES
from vending.sts.tokens import MANAGEMENT, Token, frame
from vending.sts.transpose import extract_class, insert_class, render


class _Deriver:
    """Decoder keys of one supply group's meters: ``derive(pan, kt, ti, krn, base_date) -> bytes``."""

    def __init__(self, group: MeterConfig) -> None:
        if group.vending_key is None or group.dkga is None or group.decoder_key is not None:
            raise RequestError("a key change batch derives decoder keys: give each side a vending_key and its dkga")
        self.sgc, self.ea, self.dkga = group.sgc, group.ea, group.dkga
        self.size = decoder_key_bytes(group.ea)
        self._vk = group.vending_key
        self._vk_int = int.from_bytes(self._vk, "big")
        self._control_blocks: dict[tuple[int, int, int], int] = {}
        self._affixes: dict[tuple[int, int, int, int], tuple[bytes, bytes]] = {}

    def derive(self, pan: str, kt: int, ti: int, krn: int, base_date: int) -> bytes:
        if self.dkga == "02":
            control = self._control_blocks.get((kt, ti, krn))
            if control is None:
                control = self._control_blocks[(kt, ti, krn)] = control_block(kt, self.sgc, ti, krn)
            x = pan_block(pan, kt) ^ control
            return (des_encryptor(self._vk)(x) ^ x ^ self._vk_int).to_bytes(8, "big")
        key = (base_date, ti, kt, krn)
        affixes = self._affixes.get(key)
        if affixes is None:
            # The DKGA04 message with a placeholder where the PAN goes, split around it.
            marker = "0" * 18
            message = dkga04_message(
                base_date=base_date, ea=self.ea, ti=ti, sgc=self.sgc, kt=kt, krn=krn, pan=marker, key_bits=self.size * 8
            )
            cut = len(message) - 4 - len(marker)
            affixes = self._affixes[key] = (message[:cut], message[-4:])
        return hmac.digest(self._vk, affixes[0] + pan.encode() + affixes[1], "sha256")[: self.size]


def _check_int(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RequestError(f"{name} must be a whole number from {low} to {high}, not {value!r}")


class KeyChangeBatch:
    """Key change sets from one supply group (``current``) to another (``new``), meter by meter.

    ``current`` and ``new`` are the two groups' configurations (any meter's: only sgc, ea, dkga,
    ken and the vending keys are used). Each meter then gives its own PAN, key type, and its current
    and new TI, KRN and base date.
    """

    def __init__(self, current: MeterConfig, new: MeterConfig) -> None:
        self._old = _Deriver(current)
        self._new = _Deriver(new)
        if self._new.size != self._old.size:
            raise RequestError(
                f"the new decoder key must have {self._old.size} bytes for EA{current.ea}, like the current one"
            )
        self._ea = current.ea
        self._ken = new.ken
        self._sgc_new = int(new.sgc)  # the 24-bit binary value of the 6-digit number (subclasses 8, 9)

    def check(
        self, *, pan: str, kt: int, ti: int, krn: int, base_date: int, new_ti: int, new_krn: int, new_base_date: int
    ) -> None:
        """Refuse (``RequestError`` child) what ``MeterConfig`` would refuse in the two configurations."""
        check_pan(pan)
        _check_int("kt", kt, 0, 3)
        for name, value, low, high in (
            ("ti", ti, 0, 99),
            ("krn", krn, 1, 9),
            ("ti", new_ti, 0, 99),
            ("krn", new_krn, 1, 9),
        ):
            _check_int(name, value, low, high)
        for value in (base_date, new_base_date):
            if value not in BASE_DATES:
                raise RequestError(f"base_date must be 1993, 2014 or 2035, not {value!r}")

    def tokens(
        self,
        *,
        pan: str,
        kt: int,
        ti: int,
        krn: int,
        base_date: int,
        new_ti: int,
        new_krn: int,
        new_base_date: int,
        ro: bool,
    ) -> list[Token]:
        """Subclasses 3, 4 (64-bit keys) or 3, 4, 8, 9 (128-bit), under the meter's current key.

        Raises a ``RequestError`` child for a PAN or field the engine would refuse, and
        ``RequestError`` if a section does not decrypt back to itself.
        """
        self.check(
            pan=pan,
            kt=kt,
            ti=ti,
            krn=krn,
            base_date=base_date,
            new_ti=new_ti,
            new_krn=new_krn,
            new_base_date=new_base_date,
        )
        old_key = self._old.derive(pan, kt, ti, krn, base_date)
        new_key = self._new.derive(pan, kt, new_ti, new_krn, new_base_date)
        ken = self._ken
        if len(new_key) == 8:
            bodies = [
                (
                    3,
                    (ken >> 4) << 40
                    | new_krn << 36
                    | (1 if ro else 0) << 35
                    | kt << 32
                    | int.from_bytes(new_key[:4], "big"),
                ),
                (4, (ken & 0xF) << 40 | new_ti << 32 | int.from_bytes(new_key[4:], "big")),
            ]
        else:
            sgc = self._sgc_new
            bodies = [
                (
                    3,
                    (ken >> 4) << 40
                    | new_krn << 36
                    | (1 if ro else 0) << 35
                    | kt << 32
                    | int.from_bytes(new_key[0:4], "big"),
                ),
                (4, (ken & 0xF) << 40 | new_ti << 32 | int.from_bytes(new_key[12:16], "big")),
                (8, (sgc & 0xFFF) << 32 | int.from_bytes(new_key[4:8], "big")),
                (9, (sgc >> 12) << 32 | int.from_bytes(new_key[8:12], "big")),
            ]
        ea = self._ea
        out = []
        for subclass, body in bodies:
            block = frame(MANAGEMENT, subclass, body)
            encrypted = encrypt_block(ea, old_key, block)
            digits = render(insert_class(MANAGEMENT, encrypted))
            # What the meter does with the digits (decode_token's steps, the whole block compared).
            if extract_class(int(digits)) != (MANAGEMENT, encrypted) or decrypt_block(ea, old_key, encrypted) != block:
                raise RequestError("a key change token did not decode back to itself")
            out.append(Token(MANAGEMENT, subclass, digits))
        return out
