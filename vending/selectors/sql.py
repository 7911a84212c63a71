"""Helpers for the few selectors written in plain SQL instead of the ORM (vending/selectors/quotes.py says why)."""

from decimal import Decimal
from typing import Any


def decimal_column(value: Any, places: int) -> Any:
    """A DecimalField value read with plain SQL, as the ORM would give it (SQLite hands back floats)."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places))
