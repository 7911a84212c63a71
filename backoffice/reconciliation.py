"""Provider statements vs our payments: pure CSV parsing and matching (no ORM, no clock).

Columns we assume (from public descriptions of the exports; check them against a real file when you
get one, and adjust the header names here only):

M-Pesa organisation statement (M-Pesa Org Portal → Statement → export CSV). A few title rows may come
before the table; the table's header row starts with "Receipt No.":
    Receipt No., Completion Time, Initiation Time, Details, Transaction Status, Paid In, Withdrawn,
    Balance, Balance Confirmed, Reason Type, Other Party Info, Linked Transaction ID, A/C No.
A customer payment is a row with "Paid In" > 0 and status "Completed". "Receipt No." is the M-Pesa
receipt (our Payment.receipt); "A/C No." is the AccountReference we sent (our Purchase.reference).

WaafiPay merchant portal transaction export:
    Transaction ID, Reference ID, Date, Account No, Amount, Currency, Status, Payment Method, Description
A payment is a row with status "Approved" (any case). "Transaction ID" is our Payment.provider_reference;
"Reference ID" is the referenceId we sent (our Purchase.reference or idempotency key).
"""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

MATCHED = "matched"
MISSING_OURS = "missing_ours"
MISSING_THEIRS = "missing_theirs"
AMOUNT_DIFFERS = "amount_differs"

MPESA_COLUMNS = (
    "Receipt No.",
    "Completion Time",
    "Initiation Time",
    "Details",
    "Transaction Status",
    "Paid In",
    "Withdrawn",
    "Balance",
    "Balance Confirmed",
    "Reason Type",
    "Other Party Info",
    "Linked Transaction ID",
    "A/C No.",
)
WAAFIPAY_COLUMNS = (
    "Transaction ID",
    "Reference ID",
    "Date",
    "Account No",
    "Amount",
    "Currency",
    "Status",
    "Payment Method",
    "Description",
)
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%d-%m-%Y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M",
)


class StatementError(ValueError):
    """The file is not the statement it claims to be; the message says what is missing."""


@dataclass(frozen=True)
class StatementLine:
    their_reference: str
    account_reference: str
    amount: Decimal
    occurred_at: datetime | None  # naive wall-clock time, as printed in the statement
    raw: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class OurPayment:
    payment_id: int
    their_reference: str  # M-Pesa receipt / WaafiPay transactionId, may be empty
    account_references: tuple[str, ...]  # our purchase reference (and idempotency key)
    amount: Decimal
    paid: bool  # we recorded it as paid (confirmed)


@dataclass(frozen=True)
class Match:
    outcome: str
    line: StatementLine | None
    ours: OurPayment | None


def _money(text: str) -> Decimal:
    cleaned = (text or "").replace(",", "").strip()
    if not cleaned:
        return Decimal("0")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise StatementError(f"{text!r} is not an amount") from None


def _time(text: str) -> datetime | None:
    text = (text or "").strip()
    if not text:
        return None
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise StatementError(f"{text!r} is not a date and time this parser knows")


def _table(text: str, first_column: str, required: Iterable[str]) -> list[dict[str, str]]:
    """The rows under the header row that starts with `first_column` (title rows before it are skipped)."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    for index, row in enumerate(rows):
        if row and row[0].strip() == first_column:
            header = [h.strip() for h in row]
            missing = [c for c in required if c not in header]
            if missing:
                raise StatementError(f"the header row lacks {', '.join(missing)}")
            return [dict(zip(header, (c.strip() for c in r), strict=False)) for r in rows[index + 1 :] if any(r)]
    raise StatementError(f"no header row starting with {first_column!r}")


def parse_mpesa_statement(text: str) -> list[StatementLine]:
    """Completed customer payments (Paid In > 0) of an M-Pesa organisation statement."""
    lines = []
    for row in _table(text, "Receipt No.", ("Receipt No.", "Completion Time", "Transaction Status", "Paid In")):
        paid_in = _money(row.get("Paid In", ""))
        if paid_in <= 0 or row.get("Transaction Status", "").lower() != "completed":
            continue
        lines.append(
            StatementLine(
                their_reference=row["Receipt No."],
                account_reference=row.get("A/C No.", ""),
                amount=paid_in,
                occurred_at=_time(row.get("Completion Time", "")),
                raw=row,
            )
        )
    return lines


def parse_waafipay_export(text: str) -> list[StatementLine]:
    """Approved payments of a WaafiPay transaction export."""
    lines = []
    for row in _table(text, "Transaction ID", ("Transaction ID", "Reference ID", "Date", "Amount", "Status")):
        if row.get("Status", "").lower() != "approved":
            continue
        lines.append(
            StatementLine(
                their_reference=row["Transaction ID"],
                account_reference=row["Reference ID"],
                amount=_money(row["Amount"]),
                occurred_at=_time(row["Date"]),
                raw=row,
            )
        )
    return lines


PARSERS = {"mpesa": parse_mpesa_statement, "waafipay": parse_waafipay_export}


def period(lines: Iterable[StatementLine]) -> tuple[datetime | None, datetime | None]:
    times = [line.occurred_at for line in lines if line.occurred_at is not None]
    return (min(times), max(times)) if times else (None, None)


def match(lines: Iterable[StatementLine], ours: Iterable[OurPayment]) -> list[Match]:
    """Pair statement lines with our payments: by their reference first, then by our account reference.

    A line whose payment we never recorded as paid is "missing on our side" (the customer paid and got
    nothing); a paid payment of ours absent from the statement is "missing on theirs".
    """
    ours = list(ours)
    by_theirs = {p.their_reference: p for p in ours if p.their_reference}
    by_account = {ref: p for p in ours for ref in p.account_references if ref}
    used: set[int] = set()
    results: list[Match] = []
    for line in lines:
        payment = by_theirs.get(line.their_reference) or by_account.get(line.account_reference)
        if payment is None or payment.payment_id in used:
            results.append(Match(MISSING_OURS, line, None))
            continue
        used.add(payment.payment_id)
        if not payment.paid:
            results.append(Match(MISSING_OURS, line, payment))
        elif payment.amount != line.amount:
            results.append(Match(AMOUNT_DIFFERS, line, payment))
        else:
            results.append(Match(MATCHED, line, payment))
    results.extend(Match(MISSING_THEIRS, None, p) for p in ours if p.paid and p.payment_id not in used)
    return results
