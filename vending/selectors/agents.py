"""Reads of the agent float: balance, statement, commission report."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from vending.models import AgentSale, FloatEntry


def balance_locked(*, agent_id: int) -> Decimal:
    """The float balance: the running balance of the newest entry (the sum of the ledger).

    Exact only while the caller holds the lock on the agent's row (every entry is written under it)."""
    last = FloatEntry.objects.filter(agent_id=agent_id).order_by("-id").values_list("balance_after", flat=True)[:1]
    return next(iter(last), Decimal("0.00"))


def ledger_sum(*, agent_id: int) -> Decimal:
    """The balance recomputed from every entry (reconciliation and tests compare it with `balance_locked`)."""
    return FloatEntry.objects.filter(agent_id=agent_id).aggregate(s=Sum("amount"))["s"] or Decimal("0.00")


@dataclass(frozen=True)
class Statement:
    start: datetime
    end: datetime
    opening_balance: Decimal
    closing_balance: Decimal
    entries: list[FloatEntry]
    sales_count: int
    sales_amount: Decimal
    reversals_count: int
    commission: Decimal


def float_statement(*, agent_id: int, start: datetime, end: datetime) -> Statement:
    """Float movements in [start, end), with the sales (net of reversals) and the commission they earned."""
    before = FloatEntry.objects.filter(agent_id=agent_id, created_at__lt=start).aggregate(s=Sum("amount"))["s"]
    opening = before or Decimal("0.00")
    entries = list(
        FloatEntry.objects.filter(agent_id=agent_id, created_at__gte=start, created_at__lt=end)
        .select_related("sale")
        .order_by("id")
    )
    closing = opening + sum((e.amount for e in entries), Decimal("0.00"))
    sales = AgentSale.objects.filter(agent_id=agent_id, created_at__gte=start, created_at__lt=end)
    kept = sales.filter(reversed_at__isnull=True, purchase__tokens__kind="credit")
    totals = kept.aggregate(n=Count("id"), amount=Sum("amount"), commission=Sum("commission"))
    return Statement(
        start=start,
        end=end,
        opening_balance=opening,
        closing_balance=closing,
        entries=entries,
        sales_count=totals["n"] or 0,
        sales_amount=totals["amount"] or Decimal("0.00"),
        reversals_count=sales.filter(reversed_at__isnull=False).count(),
        commission=totals["commission"] or Decimal("0.00"),
    )


def commission_report(*, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Per agent and utility: sales that stood (vended, not reversed), their amount and the commission."""
    rows = (
        AgentSale.objects.filter(created_at__gte=start, created_at__lt=end)
        .filter(Q(reversed_at__isnull=True) & Q(purchase__tokens__kind="credit"))
        .values("agent__name", "purchase__meter__supply_group__utility__name", "currency")
        .annotate(sales=Count("id"), amount=Sum("amount"), commission=Sum("commission"))
        .order_by("agent__name", "purchase__meter__supply_group__utility__name")
    )
    return [dict(row) for row in rows]
