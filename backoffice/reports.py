"""Report selectors for the dashboard and the CSV exports; each table is rows of plain values."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from vending.models import Purchase, SmsMessage, Token
from vending.states import PurchaseState, SmsState

# Purchases where the money was taken: these are sales.
SOLD = (PurchaseState.PAID, PurchaseState.VENDED, PurchaseState.DELIVERED)
STATE_GROUPS = {
    "pending": (PurchaseState.CREATED, PurchaseState.PAYMENT_PENDING, PurchaseState.PAID),
    "sold": (PurchaseState.VENDED, PurchaseState.DELIVERED),
    "failed": (PurchaseState.PAYMENT_FAILED, PurchaseState.CANCELLED),
    "needs_review": (PurchaseState.NEEDS_REVIEW,),
    # Only a completed refund is refunded: one still in progress is money the customer has not got back.
    "refund_in_progress": (PurchaseState.REFUND_PENDING,),
    "refunded": (PurchaseState.REFUNDED,),
}
_SMS_FINAL_BAD = (SmsState.FAILED, SmsState.REJECTED)


@dataclass(frozen=True)
class Table:
    """Rows of plain values (the CSV export writes them as they are); `display_rows` for people."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple]

    @property
    def display_rows(self) -> list[tuple[str, ...]]:
        return [
            tuple(human(value, column) for value, column in zip(row, self.columns, strict=False)) for row in self.rows
        ]


def human(value: object, column: str = "") -> str:
    """A number or day as people read it: 1,750.00 (money), 88.2 (kWh), 1,204 (counts), Tue 15 Dec."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal | float):
        places = 1 if "kwh" in column or "%" in column else 2
        return f"{Decimal(str(value)):,.{places}f}"
    if isinstance(value, date):
        return value.strftime("%a %d %b %Y")
    return str(value)


def _day():
    return TruncDate("created_at", tzinfo=timezone.get_current_timezone())


def sales_per_day(*, start: datetime, end: datetime) -> Table:
    rows = (
        Purchase.objects.filter(created_at__gte=start, created_at__lt=end, state__in=SOLD)
        .annotate(day=_day())
        .values("day", "meter__supply_group__utility__name", "wallet", "currency")
        .annotate(purchases=Count("pk"), amount=Sum("amount"))
        .order_by("day", "meter__supply_group__utility__name", "wallet", "currency")
    )
    return Table(
        "Sales per day",
        ("day", "utility", "wallet", "currency", "purchases", "amount"),
        [
            (r["day"], r["meter__supply_group__utility__name"], r["wallet"], r["currency"], r["purchases"], r["amount"])
            for r in rows
        ],
    )


def units_per_day(*, start: datetime, end: datetime) -> Table:
    rows = (
        Token.objects.filter(created_at__gte=start, created_at__lt=end, kind__in=[Token.Kind.CREDIT, Token.Kind.FREE])
        .annotate(day=_day())
        .values("day", "meter__supply_group__utility__name", "kind")
        .annotate(tokens=Count("pk"), kwh=Sum("units"))
        .order_by("day", "meter__supply_group__utility__name", "kind")
    )
    return Table(
        "kWh per day (sold and free apart)",
        ("day", "utility", "kind", "tokens", "kwh"),
        [
            (
                r["day"],
                r["meter__supply_group__utility__name"],
                "sold" if r["kind"] == Token.Kind.CREDIT else r["kind"],
                r["tokens"],
                r["kwh"],
            )
            for r in rows
        ],
    )


def purchase_outcomes(*, start: datetime, end: datetime) -> Table:
    """Purchases and their amount per outcome and currency: amounts in different currencies never add up."""
    found = {
        (r["state"], r["currency"]): (r["n"], r["total"] or Decimal("0"))
        for r in Purchase.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("state", "currency")
        .order_by()
        .annotate(n=Count("pk"), total=Sum("amount"))
    }
    currencies = sorted({currency for _, currency in found})
    rows = []
    for group, states in STATE_GROUPS.items():
        for currency in currencies:
            n = sum(found.get((s, currency), (0, 0))[0] for s in states)
            total = sum((found.get((s, currency), (0, Decimal("0")))[1] for s in states), Decimal("0"))
            rows.append((group.replace("_", " "), currency, n, total))
    return Table("Outcomes per currency", ("outcome", "currency", "purchases", "amount"), rows)


def sales_totals(*, start: datetime, end: datetime) -> Table:
    """Sales per currency over the period: one total per currency, never one across currencies."""
    rows = (
        Purchase.objects.filter(created_at__gte=start, created_at__lt=end, state__in=SOLD)
        .values("currency")
        .annotate(purchases=Count("pk"), amount=Sum("amount"))
        .order_by("currency")
    )
    return Table(
        "Sales totals per currency",
        ("currency", "purchases", "amount"),
        [(r["currency"], r["purchases"], r["amount"]) for r in rows],
    )


def units_totals(*, start: datetime, end: datetime) -> Table:
    """kWh in tokens over the period, sold (paid credit tokens) and free (staff-issued) apart."""
    rows = dict(
        Token.objects.filter(created_at__gte=start, created_at__lt=end, kind__in=[Token.Kind.CREDIT, Token.Kind.FREE])
        .values_list("kind")
        .order_by()
        .annotate(kwh=Sum("units"))
    )
    counts = dict(
        Token.objects.filter(created_at__gte=start, created_at__lt=end, kind__in=[Token.Kind.CREDIT, Token.Kind.FREE])
        .values_list("kind")
        .order_by()
        .annotate(n=Count("pk"))
    )
    return Table(
        "kWh: sold and free apart",
        ("units", "tokens", "kwh"),
        [
            ("sold", counts.get(Token.Kind.CREDIT, 0), rows.get(Token.Kind.CREDIT) or Decimal("0")),
            ("free", counts.get(Token.Kind.FREE, 0), rows.get(Token.Kind.FREE) or Decimal("0")),
        ],
    )


def sms_delivery(*, start: datetime, end: datetime) -> Table:
    rows = (
        SmsMessage.objects.filter(created_at__gte=start, created_at__lt=end, direction=SmsMessage.Direction.OUTBOUND)
        .annotate(day=_day())
        .values("day")
        .annotate(
            sent=Count("pk"),
            delivered=Count("pk", filter=Q(status=SmsState.DELIVERED)),
            failed=Count("pk", filter=Q(status__in=_SMS_FINAL_BAD)),
        )
        .order_by("day")
    )
    return Table(
        "SMS delivery",
        ("day", "sent", "delivered", "failed", "delivery rate %"),
        [
            (
                r["day"],
                r["sent"],
                r["delivered"],
                r["failed"],
                round(100 * r["delivered"] / r["sent"], 1) if r["sent"] else 0.0,
            )
            for r in rows
        ],
    )


TABLES = {
    "totals": sales_totals,
    "sales": sales_per_day,
    "units_totals": units_totals,
    "units": units_per_day,
    "outcomes": purchase_outcomes,
    "sms": sms_delivery,
}


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    x: int
    y: int
    height: int
    width: int


def bars(series: list[tuple[str, float]], *, width: int = 600, height: int = 160) -> list[Bar]:
    """Positions for a simple SVG bar chart (drawn server-side: no JavaScript, no CDN)."""
    if not series:
        return []
    top = max(v for _, v in series) or 1
    slot = width // len(series)
    bar_width = max(2, int(slot * 0.7))
    out = []
    for i, (label, value) in enumerate(series):
        h = int(height * value / top)
        out.append(
            Bar(label=label, value=value, x=i * slot + (slot - bar_width) // 2, y=height - h, height=h, width=bar_width)
        )
    return out


def daily_series(
    table: Table, value_column: str, start: date, days: int, where: dict[str, object] | None = None
) -> list[tuple[str, float]]:
    """Sum one column per day across the other dimensions (only rows matching `where`), empty days as zero."""
    index = table.columns.index(value_column)
    keep = [(table.columns.index(name), wanted) for name, wanted in (where or {}).items()]
    totals: dict[date, float] = defaultdict(float)
    for row in table.rows:
        if all(row[i] == wanted for i, wanted in keep):
            totals[row[0]] += float(row[index] or 0)
    from datetime import timedelta

    return [
        ((start + timedelta(days=i)).strftime("%d %b"), totals.get(start + timedelta(days=i), 0.0)) for i in range(days)
    ]
