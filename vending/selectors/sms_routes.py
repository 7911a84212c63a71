"""Per-route SMS figures for the staff dashboard: messages carried, failed tries, last success."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Q

from vending.models import SmsAttempt


@dataclass(frozen=True)
class RouteStat:
    route: str  # "SO/hormuud>hormuud": the route table entry and the gateway it names
    gateway: str
    carried: int  # attempts the gateway accepted (one per message it carried)
    failed: int  # attempts refused or not taken (each then went on to the fallback or a retry)
    last_success: datetime | None


def sms_route_stats(*, start: datetime, end: datetime) -> list[RouteStat]:
    accepted = Q(outcome=SmsAttempt.Outcome.ACCEPTED)
    rows = (
        SmsAttempt.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("route", "gateway")
        .annotate(
            carried=Count("pk", filter=accepted),
            failed=Count("pk", filter=~accepted),
            last_success=Max("created_at", filter=accepted),
        )
        .order_by("route", "gateway")
    )
    return [RouteStat(**row) for row in rows]
