"""USSD: a meter whose key configuration cannot vend (issue 17) is refused on the confirm hop, before the
wallet's payment prompt is pushed."""

from tests.factories import make_supply_group
from tests.ussd.screens import end
from vending.models import Meter, Payment, Purchase


def test_confirming_a_purchase_for_a_meter_that_cannot_vend_ends_with_the_reason_and_no_push(
    phone, world, django_capture_on_commit_callbacks
):
    meter = world["ke"]["04123456784"]
    legacy = make_supply_group(meter.supply_group.utility, base_date=1993)
    Meter.objects.filter(pk=meter.pk).update(supply_group=legacy, base_date=1993)
    phone.dial()
    for answer in ("1", "1", "500"):
        phone.send(answer)
    with django_capture_on_commit_callbacks() as pushes:
        reply = phone.send("1")
    assert reply == end("This meter cannot be sold now. Contact the utility.")
    assert not pushes and not Purchase.objects.exists() and not Payment.objects.exists()
