"""Can this meter be sold a token right now? Asked before any payment is requested (purchase_create,
the partner API), so a meter whose configuration cannot vend is refused before the customer pays.

One plain-SQL query (it runs on the confirm hop of every purchase; vending/selectors/meters.py says why
not the ORM). The rules, and why each one, are in docs/KEY_SAFETY.md. The weak-key rule is not checked
here: it needs the key decrypted, and the key-entry and key-change services never let such a key in.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from vending.models import Meter, SupplyGroup, Tariff, Utility
from vending.sts.tid import BASE_DATES, TID_MAX, last_minute, minutes_since_base

OK = "ok"
NOT_FOUND = "not_found"
BLOCKED = "blocked"
NO_VENDING_KEY = "no_vending_key"
OTHER_UTILITY = "other_utility"
CURRENCY_MISMATCH = "currency_mismatch"
BASE_DATE_EXHAUSTED = "base_date_exhausted"
TID_EXHAUSTED = "tid_exhausted"
BAD_BASE_DATE = "bad_base_date"


@dataclass(frozen=True)
class Vendability:
    """`ok`, or the first reason the meter cannot vend: `code` for programs, `detail` for staff (never
    shown to a customer: channels say "this meter cannot be sold now; contact the utility")."""

    code: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.code == OK


_SQL = f"""
SELECT m.status, m.base_date, m.last_tid, m.pending_supply_group_id, m.pending_base_date,
       t.utility_id, t.currency,
       g.utility_id, gu.currency, g.vending_key_encrypted IS NOT NULL, g.sgc, g.key_revision,
       pg.utility_id, pgu.currency, pg.vending_key_encrypted IS NOT NULL, pg.sgc, pg.key_revision
  FROM {Meter._meta.db_table} m
  JOIN {Tariff._meta.db_table} t ON t.id = m.tariff_id
  JOIN {SupplyGroup._meta.db_table} g ON g.id = m.supply_group_id
  JOIN {Utility._meta.db_table} gu ON gu.id = g.utility_id
  LEFT JOIN {SupplyGroup._meta.db_table} pg ON pg.id = m.pending_supply_group_id
  LEFT JOIN {Utility._meta.db_table} pgu ON pgu.id = pg.utility_id
 WHERE m.id = %s
"""  # noqa: S608 - only model table names are formatted in


def base_date_problem(*, base_date: int, now: datetime, headroom: timedelta = timedelta(0)) -> str | None:
    """Why a meter on `base_date` cannot take tokens from `now` for `headroom` longer, or None.

    Counted as the engine counts a TID (vending.sts.tid: the minutes of `now`'s own wall clock), so the
    last minute a vend could still number is the last minute this allows."""
    if base_date not in BASE_DATES:
        return f"base date {base_date} is not one of 1993, 2014, 2035"
    if minutes_since_base(now + headroom, base_date) > TID_MAX:
        end = last_minute(base_date)
        return f"base date {base_date} runs out of token IDs on {end:%Y-%m-%d %H:%M}" + (
            f" (less than {headroom.days // 365} years left)" if headroom else ""
        )
    return None


def meter_vendability(*, meter: Meter, now: datetime | None = None) -> Vendability:
    """Whether `meter` (only its pk is read) can be vended now, in its current or pending configuration."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_SQL, [meter.pk])
        row = cursor.fetchone()
    if row is None:
        return Vendability(NOT_FOUND, "no such meter")
    (
        status,
        base_date,
        last_tid,
        pending_group_id,
        pending_base_date,
        tariff_utility,
        tariff_currency,
        group_utility,
        group_currency,
        group_has_key,
        sgc,
        krn,
        pending_utility,
        pending_currency,
        pending_has_key,
        pending_sgc,
        pending_krn,
    ) = row
    if status != Meter.Status.ACTIVE:
        return Vendability(BLOCKED, f"the meter is {status}")
    groups = [(group_utility, group_currency, group_has_key, sgc, krn)]
    if pending_group_id is not None:
        # The next vend carries the key change: both the current key (it encrypts the key change
        # tokens) and the pending one (it encrypts the credit) must be there.
        groups.append((pending_utility, pending_currency, pending_has_key, pending_sgc, pending_krn))
    for utility_id, currency, has_key, g_sgc, g_krn in groups:
        if not has_key:
            return Vendability(NO_VENDING_KEY, f"supply group {g_sgc} KRN {g_krn} has no vending key")
        if utility_id != tariff_utility:
            return Vendability(
                OTHER_UTILITY, f"supply group {g_sgc} KRN {g_krn} belongs to another utility than the meter's tariff"
            )
        if currency != tariff_currency:
            return Vendability(
                CURRENCY_MISMATCH,
                f"supply group {g_sgc} KRN {g_krn} sells in {currency}, the meter's tariff in {tariff_currency}",
            )
    pending = pending_group_id is not None or pending_base_date is not None
    effective = pending_base_date if pending_base_date is not None else base_date
    problem = base_date_problem(base_date=effective, now=now)
    if problem:
        return Vendability(
            BASE_DATE_EXHAUSTED if effective in BASE_DATES else BAD_BASE_DATE,
            problem + ("" if pending else "; the meter needs a key change to a later base date"),
        )
    rollover = pending_base_date is not None and pending_base_date != base_date
    if not rollover and last_tid is not None and last_tid >= TID_MAX:
        return Vendability(TID_EXHAUSTED, "the meter has used its last token ID")
    return Vendability(OK)
