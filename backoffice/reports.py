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
    "refunded": (PurchaseState.REFUND_PENDING, PurchaseState.REFUNDED),
}
_SMS_FINAL_BAD = (SmsState.FAILED, SmsState.REJECTED)


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple]


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
    return Table("Sales per day", ("day", "utility", "wallet", "currency", "purchases", "amount"), [
        (r["day"], r["meter__supply_group__utility__name"], r["wallet"], r["currency"], r["purchases"], r["amount"])
        for r in rows
    ])


def units_per_day(*, start: datetime, end: datetime) -> Table:
    rows = (
        Token.objects.filter(created_at__gte=start, created_at__lt=end, kind__in=[Token.Kind.CREDIT, Token.Kind.FREE])
        .annotate(day=_day())
        .values("day", "meter__supply_group__utility__name", "kind")
        .annotate(tokens=Count("pk"), kwh=Sum("units"))
        .order_by("day", "meter__supply_group__utility__name", "kind")
    )
    return Table("Units sold (kWh)", ("day", "utility", "kind", "tokens", "kwh"), [
        (r["day"], r["meter__supply_group__utility__name"], r["kind"], r["tokens"], r["kwh"]) for r in rows
    ])


def purchase_outcomes(*, start: datetime, end: datetime) -> Table:
    counts = dict(
        Purchase.objects.filter(created_at__gte=start, created_at__lt=end)
        .values_list("state").order_by().annotate(n=Count("pk"))
    )
    amounts = dict(
        Purchase.objects.filter(created_at__gte=start, created_at__lt=end)
        .values_list("state").order_by().annotate(total=Sum("amount"))
    )
    rows = []
    for group, states in STATE_GROUPS.items():
        rows.append((group, sum(counts.get(s, 0) for s in states),
                     sum((amounts.get(s) or Decimal("0") for s in states), Decimal("0"))))
    return Table("Pending, failed, refunded", ("outcome", "purchases", "amount (all currencies)"), rows)


def sms_delivery(*, start: datetime, end: datetime) -> Table:
    rows = (
        SmsMessage.objects.filter(created_at__gte=start, created_at__lt=end, direction=SmsMessage.Direction.OUTBOUND)
        .annotate(day=_day())
        .values("day")
        .annotate(sent=Count("pk"), delivered=Count("pk", filter=Q(status=SmsState.DELIVERED)),
                  failed=Count("pk", filter=Q(status__in=_SMS_FINAL_BAD)))
        .order_by("day")
    )
    return Table("SMS delivery", ("day", "sent", "delivered", "failed", "delivery rate %"), [
        (r["day"], r["sent"], r["delivered"], r["failed"],
         round(100 * r["delivered"] / r["sent"], 1) if r["sent"] else 0.0)
        for r in rows
    ])


TABLES = {
    "sales": sales_per_day,
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
        out.append(Bar(label=label, value=value, x=i * slot + (slot - bar_width) // 2, y=height - h, height=h,
                       width=bar_width))
    return out


def daily_series(table: Table, value_column: str, start: date, days: int) -> list[tuple[str, float]]:
    """Sum one column per day across the other dimensions, with empty days as zero."""
    index = table.columns.index(value_column)
    totals: dict[date, float] = defaultdict(float)
    for row in table.rows:
        totals[row[0]] += float(row[index] or 0)
    from datetime import timedelta

    return [((start + timedelta(days=i)).strftime("%d %b"), totals.get(start + timedelta(days=i), 0.0))
            for i in range(days)]
