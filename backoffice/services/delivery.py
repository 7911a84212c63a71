"""Sending staff-issued tokens to the people who buy for a meter."""

import backoffice.messages  # noqa: F401  (registers the staff catalogue)
from vending import i18n
from vending.exceptions import VendingError
from vending.models import CustomerMeter, Meter

SMS = "sms"
SHOW = "show"
DELIVERIES = (SMS, SHOW)


class NoCustomerToNotify(VendingError):
    code = "no_customer_to_notify"


def meter_recipients(meter: Meter) -> list[tuple[str, str]]:
    """(phone, language) of every customer who saved this meter."""
    return list(
        CustomerMeter.objects.filter(meter=meter)
        .order_by("customer__phone")
        .values_list("customer__phone", "customer__language")
        .distinct()
    )


def check_delivery(delivery: str) -> str:
    if delivery not in DELIVERIES:
        raise VendingError(f"unknown delivery {delivery!r}: choose sms or show")
    return delivery


def sms_to_meter_customers(*, meter: Meter, key: str, required: bool = True, **values: object) -> int:
    """Render `key` in each customer's language and queue it; return how many SMS were queued."""
    from vending.services.sms import sms_send

    recipients = meter_recipients(meter)
    if not recipients and required:
        raise NoCustomerToNotify(f"Meter {meter.drn} has no customer to send to; choose 'show once' instead.")
    count = 0
    for phone, language in recipients:
        count += len(sms_send(phone=phone, text=i18n.render(key, language, drn=meter.drn, **values)))
    return count
