"""When a staff action needs a second person (the rules of maker-checker), apart from the requests themselves.

The services that act (a refund in backoffice.services.support and review, a free token in
backoffice.services.meter_tokens) ask these questions before they act; backoffice.services.approvals opens
and decides the requests and, once approved, calls those services. So the rules sit below both and neither
imports the other back.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from backoffice.models import Approval
from vending.exceptions import VendingError
from vending.models import Meter, Purchase, Token

# Refunds above these amounts need a second person (settings.REFUND_APPROVAL_THRESHOLDS overrides).
DEFAULT_REFUND_THRESHOLDS = {"KES": Decimal("5000"), "USD": Decimal("50"), "SLSH": Decimal("300000")}
# Free kWh per meter per local day one person may issue alone (settings.FREE_TOKEN_APPROVAL_KWH overrides).
DEFAULT_FREE_TOKEN_KWH = Decimal("20")


class ApprovalRequired(VendingError):
    """The action needs a second person: open a request (the admin does) instead of acting."""

    code = "approval_required"


def refund_threshold(currency: str) -> Decimal | None:
    thresholds = getattr(settings, "REFUND_APPROVAL_THRESHOLDS", None) or DEFAULT_REFUND_THRESHOLDS
    value = thresholds.get(currency)
    return None if value is None else Decimal(str(value))


def free_token_kwh_limit() -> Decimal:
    return Decimal(str(getattr(settings, "FREE_TOKEN_APPROVAL_KWH", DEFAULT_FREE_TOKEN_KWH)))


def refund_needs_approval(*, purchase: Purchase) -> bool:
    threshold = refund_threshold(purchase.currency)
    return threshold is not None and purchase.amount > threshold


def free_kwh_today(*, meter: Meter, now: datetime | None = None) -> Decimal:
    """Free kWh issued to `meter` since local midnight."""
    local = timezone.localtime(now or timezone.now())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    total = Token.objects.filter(meter=meter, kind=Token.Kind.FREE, created_at__gte=midnight).aggregate(s=Sum("units"))[
        "s"
    ]
    return total or Decimal("0")


def free_token_needs_approval(*, meter: Meter, kwh: Decimal, now: datetime | None = None) -> bool:
    return free_kwh_today(meter=meter, now=now) + kwh > free_token_kwh_limit()


def check_approved(approval: Approval | None, *, kind: str, **target: Any) -> None:
    """Raise ApprovalRequired unless `approval` is an approved-in-progress request of `kind` for `target`."""
    if approval is None or approval.kind != kind or approval.checker_id is None:
        raise ApprovalRequired("This needs a second person's approval: open a request.")
    for name, obj in target.items():
        if getattr(approval, f"{name}_id") != obj.pk:
            raise ApprovalRequired("The approval is for another record.")
