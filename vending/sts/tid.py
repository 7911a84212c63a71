"""Token identifiers (§6.3.5): 24-bit counts of wall-clock minutes since the meter's base date."""

from __future__ import annotations

from datetime import datetime, timedelta

from vending.sts.errors import RequestError, TidError

TID_MAX = 0xFFFFFF
BASE_DATES: dict[int, datetime] = {
    1993: datetime(1993, 1, 1),
    2014: datetime(2014, 1, 1),
    2035: datetime(2035, 1, 1),
}
_MINUTE = timedelta(minutes=1)


def base_datetime(base_date: int) -> datetime:
    """Midnight of the base date year (1993, 2014 or 2035)."""
    try:
        return BASE_DATES[base_date]
    except (KeyError, TypeError):
        raise RequestError(f"base_date must be 1993, 2014 or 2035, not {base_date!r}") from None


def last_minute(base_date: int) -> datetime:
    """The last issue time a TID can carry for this base date (1993 → 2024-11-24 20:15)."""
    return base_datetime(base_date) + TID_MAX * _MINUTE


def minutes_since_base(issued_at: datetime, base_date: int) -> int:
    """Whole minutes from the base date to ``issued_at``, unchecked (may be negative or > 24 bits).

    TIDs are wall-clock minutes: an aware datetime is read as its own local wall clock, never
    converted to UTC on one side only (that would shift every TID by the offset).
    """
    if issued_at.tzinfo is not None:
        issued_at = issued_at.replace(tzinfo=None)
    return (issued_at - base_datetime(base_date)) // _MINUTE


def base_date_in_use(now: datetime) -> int:
    """The base date a meter set up at ``now`` is given: the oldest whose TIDs still number ``now``.

    1993 until its range ended (2024-11-24 20:15), then 2014 until 2045-11-24 20:15, then 2035: a
    meter made on an ended base date could take no token, one on a base date not yet begun neither.
    """
    for base_date in sorted(BASE_DATES):
        if 0 <= minutes_since_base(now, base_date) <= TID_MAX:
            return base_date
    raise TidError(f"no base date numbers tokens at {now:%Y-%m-%d %H:%M}")


def base_date_before(base_date: int) -> int | None:
    """The base date whose meters roll over to ``base_date`` (2014 → 1993), or None for the first."""
    base_datetime(base_date)  # a RequestError for anything but 1993, 2014, 2035
    earlier = [year for year in sorted(BASE_DATES) if year < base_date]
    return earlier[-1] if earlier else None


def check_tid(tid: int, base_date: int = 1993) -> int:
    """``tid`` if it fits 24 bits; otherwise a :class:`TidError` naming the remedy."""
    if tid < 0:
        raise TidError(f"TID {tid} is negative: the issue time is before the base date {base_date}-01-01")
    if tid > TID_MAX:
        raise TidError(
            f"TID {tid} does not fit 24 bits: the issue time is after the last minute of base date "
            f"{base_date} ({last_minute(base_date):%Y-%m-%d %H:%M}); the meter needs a key change to the "
            "next base date first"
        )
    return tid


def tid_from_datetime(issued_at: datetime, base_date: int = 1993) -> int:
    """The TID for a token issued at ``issued_at`` (2004-03-01 13:55, base 1993 → 5 871 715)."""
    return check_tid(minutes_since_base(issued_at, base_date), base_date)


def datetime_from_tid(tid: int, base_date: int = 1993) -> datetime:
    """The issue minute a TID stands for."""
    return base_datetime(base_date) + check_tid(tid, base_date) * _MINUTE


def next_tid(now: datetime, base_date: int = 1993, last_tid: int | None = None) -> int:
    """The TID to use for the next token of one meter: ``max(minutes(now), last_tid + 1)``.

    IEC 62055-51 has the vending side move a second token in the same minute to the next minute,
    so TIDs stay unique per meter. Refuses past the base date's last minute.
    """
    tid = minutes_since_base(now, base_date)
    if last_tid is not None and last_tid + 1 > tid:
        tid = last_tid + 1
    return check_tid(tid, base_date)


def parse_issued_at(text: str) -> datetime:
    """``"YYYY-MM-DDTHH:MM"`` (seconds allowed and ignored) as a naive wall-clock datetime."""
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise RequestError(f"issued_at {text!r} is not a time of the form YYYY-MM-DDTHH:MM") from None
