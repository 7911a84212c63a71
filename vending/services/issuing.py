"""The one way a token for a meter is issued: lock the meter row, take the TID, make the tokens, check them, save them.

Every caller goes through `meter_token_issue`: the pipeline's vend (vending.services.tokens: a pending key
change, then the credit token), the staff's engineering and free tokens (backoffice.services.meter_tokens)
and a key change made at once (backoffice.services.key_changes). So the rules below hold for each of them:

- the Meter row is locked (`meter_lock`) for the whole issue, so two issues for one meter queue;
- a token with a TID takes `next_tid(now, base_date, last_tid)` and stores it as the meter's `last_tid`:
  two tokens for one meter in one minute take successive minutes, and the DB keeps (meter, tid) unique;
- a key change's tokens come first, made under the current key; the meter row then moves to the new key
  (across a base date the meter forgets its TIDs, `clears_tid_memory`) and the token after them is made
  under the new key;
- every token is typed, in entry order, into a fresh virtual meter in the configuration our records give
  the meter (not the stored virtual meter: that is what the customer has typed so far, and a customer who
  has not typed an earlier key change must still be able to buy); a token it would refuse is never saved.

The key change campaign (backoffice.services.campaign_chunks) is the one batch path: see its docstring.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction

from vending.exceptions import StsError
from vending.models import Meter, Purchase, SupplyGroup, Token
from vending.services.compiled_reads import CompiledRead
from vending.services.plain_writes import columns_update, row_insert
from vending.services.virtual_meters import meter_config, pending_meter_config
from vending.sts import (
    MeterConfig,
    VirtualMeter,
    credit_token,
    derive_decoder_key,
    key_change_tokens,
    management_token,
    next_tid,
    units_to_kwh,
)
from vending.sts import StsError as EngineError
from vending.sts import Token as StsToken

# What a key change writes on the meter row (with the TID memory it may clear).
KEY_FIELDS = [
    "supply_group",
    "key_revision",
    "tariff_index",
    "base_date",
    "last_tid",
    "pending_supply_group",
    "pending_tariff_index",
    "pending_key_revision",
    "pending_base_date",
    "updated_at",
]


@dataclass(frozen=True)
class KeyChange:
    """Move the meter to `config` (its key, tariff index, base date) in `supply_group`."""

    supply_group: SupplyGroup
    config: MeterConfig
    reason: str = ""


@dataclass(frozen=True)
class Credit:
    """A credit token of `units` (0.1 kWh): a purchase's (CREDIT) or one staff give (FREE)."""

    units: int
    kind: str = Token.Kind.CREDIT
    reason: str = ""


@dataclass(frozen=True)
class Management:
    """An engineering (management, class 2) token: `subclass` with its `value`."""

    subclass: int
    value: int
    reason: str = ""


@dataclass(frozen=True)
class TokenOrder:
    """What one issue makes: a key change's tokens first (if any), then one token with a TID (if any)."""

    key_change: KeyChange | None = None
    token: Credit | Management | None = None


@dataclass(frozen=True)
class IssuedTokens:
    meter: Meter  # the locked row, saved
    tokens: list[Token]  # saved, in the order the customer types them
    before: MeterConfig  # the meter's configuration before the issue
    after: MeterConfig  # ... and after it (the same unless there was a key change)

    @property
    def key_changed(self) -> bool:
        return any(t.kind == Token.Kind.KEY_CHANGE for t in self.tokens)

    @property
    def rollover(self) -> bool:
        return clears_tid_memory(self.before.base_date, self.after.base_date)


def clears_tid_memory(base_date: int, new_base_date: int) -> bool:
    """A key change across base dates (the 1993 → 2014 TID roll-over) sets the RO bit, and the meter forgets
    the TIDs it has seen: minutes count afresh from the new base date."""
    return new_base_date != base_date


_METER_LOCK = CompiledRead(
    Meter,
    lambda pk: (
        Meter.objects.select_for_update(of=("self",))
        .select_related("supply_group", "pending_supply_group")
        .filter(pk=pk)
    ),
)


def meter_lock(*, meter_id: int) -> Meter:
    """The Meter row locked for the current transaction (only the meter: its supply groups are read, not locked).
    The ORM's statement, compiled once: it is on every vend (vending.services.compiled_reads)."""
    return _METER_LOCK.get(meter_id)


def pending_key_change(meter: Meter) -> KeyChange | None:
    """The key change staff pre-coded on `meter` (its pending_* fields), which its next vend carries."""
    if not meter.has_pending_key_change:
        return None
    group = meter.pending_supply_group or meter.supply_group
    return KeyChange(supply_group=group, config=pending_meter_config(meter=meter), reason="pending key change")


def meter_token_issue(
    *,
    meter_id: int,
    order: TokenOrder | Callable[[Meter], TokenOrder],
    now: datetime,
    purchase: Purchase | None = None,
    issued_by: User | None = None,
) -> IssuedTokens:
    """Issue `order` for the meter under its row lock, in the caller's transaction (or one of its own).

    `order` may be a function of the locked meter, for what depends on the row as it is under the lock (a
    pending key change, the checks before a key change). Raises StsError, and saves nothing, when the engine
    refuses or the checking virtual meter would not accept a token."""
    # No savepoint: the callers roll back what they wrote with it, and the vend pays for each savepoint.
    with transaction.atomic(savepoint=False):
        meter = meter_lock(meter_id=meter_id)
        try:
            wanted = order(meter) if callable(order) else order
            return _issue(meter=meter, order=wanted, now=now, purchase=purchase, issued_by=issued_by)
        except EngineError as exc:
            raise StsError(f"the STS engine refused: {exc}") from exc


def _issue(
    *, meter: Meter, order: TokenOrder, now: datetime, purchase: Purchase | None, issued_by: User | None
) -> IssuedTokens:
    before = config = meter_config(meter=meter)
    checker = VirtualMeter(before)
    rows: list[Token] = []

    def row(kind: str, made: StsToken, reason: str, **fields: object) -> Token:
        return Token(
            purchase=purchase,
            meter=meter,
            kind=kind,
            token_class=made.token_class,
            subclass=made.subclass,
            sequence=len(rows),
            digits=made.digits,
            reason=reason[:255],
            issued_by=issued_by,
            created_at=now,
            **fields,
        )

    change = order.key_change
    if change is not None:
        config = change.config
        rollover = clears_tid_memory(before.base_date, config.base_date)
        sections = key_change_tokens(
            before,
            config,
            ro=rollover,
            decoder_key=derive_decoder_key(before),
            new_decoder_key=derive_decoder_key(config),
        )
        for section in sections:
            token_check(checker, section.digits)
            rows.append(row(Token.Kind.KEY_CHANGE, section, change.reason))
        _move_to(meter, change, rollover=rollover)
    wanted = order.token
    if wanted is not None:
        tid = take_tid(meter, base_date=config.base_date, now=now)
        key = derive_decoder_key(config)
        if isinstance(wanted, Credit):
            made = credit_token(config, units=wanted.units, tid=tid, rnd=secrets.randbelow(16), decoder_key=key)
            token_check(checker, made.digits, units=wanted.units)
            rows.append(row(wanted.kind, made, wanted.reason, tid=tid, units=units_to_kwh(wanted.units)))
        else:
            made = management_token(
                config,
                subclass=wanted.subclass,
                value=wanted.value,
                tid=tid,
                rnd=secrets.randbelow(16),
                decoder_key=key,
            )
            token_check(checker, made.digits)
            rows.append(row(Token.Kind.ENGINEERING, made, wanted.reason, tid=tid))
    if rows:
        # A token alone changes only the TID memory; a key change moves the meter's key fields as well.
        # Plain statements, as save() writes them: this is on every vend (vending.services.plain_writes).
        columns_update(meter, KEY_FIELDS if change is not None else ["last_tid", "updated_at"])
        for token_row in rows:
            row_insert(token_row)
    return IssuedTokens(meter=meter, tokens=rows, before=before, after=config)


def take_tid(meter: Meter, *, base_date: int, now: datetime) -> int:
    """The next TID of the (locked) meter, remembered on the row (saved with the issue)."""
    tid = next_tid(now, base_date, meter.last_tid)
    meter.last_tid = tid
    return tid


def token_check(checker: VirtualMeter, digits: str, *, units: int | None = None) -> None:
    """Type the token into the checking virtual meter; refuse anything the meter would not accept (and a
    credit token that would not add exactly `units`)."""
    result = checker.enter(digits)
    if not result.accepted or (units is not None and result.units_added != units):
        # The display code says why; the digits never reach the log.
        raise StsError(f"the virtual meter refused the new token: {result.display.value}")


def _move_to(meter: Meter, change: KeyChange, *, rollover: bool) -> None:
    meter.supply_group = change.supply_group
    meter.key_revision, meter.tariff_index, meter.base_date = (
        change.config.krn,
        change.config.ti,
        change.config.base_date,
    )
    meter.pending_supply_group = None
    meter.pending_tariff_index = meter.pending_key_revision = meter.pending_base_date = None
    if rollover:
        meter.last_tid = None
