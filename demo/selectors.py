"""What the simulator shows: the demo customers, a phone's meters, its SMS inbox, a virtual meter's register."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from vending.models import Customer, CustomerMeter, Meter, SmsMessage
from vending.services.virtual_meters import virtual_meter_copy

INBOX_SIZE = 20


@dataclass(frozen=True)
class MeterChoice:
    drn: str
    name: str  # the customer's alias, or the label on the meter


def demo_phones() -> list[str]:
    return list(Customer.objects.order_by("phone").values_list("phone", flat=True))


def meters_for_phone(*, phone: str) -> list[MeterChoice]:
    """The meters the customer saved, in the order they saved them; every meter when they saved none."""
    saved = CustomerMeter.objects.filter(customer__phone=phone).select_related("meter").order_by("pk")
    choices = [MeterChoice(drn=row.meter.drn, name=row.alias or row.meter.label_name) for row in saved]
    if choices:
        return choices
    return [MeterChoice(drn=m.drn, name=m.label_name) for m in Meter.objects.order_by("drn")]


def inbox_for_phone(*, phone: str, limit: int = INBOX_SIZE) -> list[SmsMessage]:
    """The texts koronto sent to `phone`, newest first: what the handset's inbox would hold."""
    return list(
        SmsMessage.objects.filter(phone=phone, direction=SmsMessage.Direction.OUTBOUND).order_by("-created_at", "-pk")[
            :limit
        ]
    )


def meter_credit_kwh(*, meter: Meter) -> Decimal:
    """The virtual meter's electricity register (stored in 0.1 kWh)."""
    return Decimal(virtual_meter_copy(meter=meter).credit_units) / 10
