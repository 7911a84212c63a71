"""The purchase dialogue over real HTTP through each USSD gateway: the fakes' requests reach a live server.

Celery runs eagerly inside the server, so the confirm hop's commit pushes the (sandbox) payment, vends and
sends the token SMS before the test reads the database.
"""

import pytest
from django.conf import settings as django_settings

from fakes.ussd_gateways import dialer
from tests.pipeline.helpers import texts_to
from tests.ussd.conftest import SERVICE_CODE
from vending.i18n import render
from vending.models import Purchase
from vending.states import PurchaseState

pytestmark = pytest.mark.django_db(transaction=True)

HODAN = "+252611000111"


@pytest.mark.parametrize("gateway", ["africastalking", "json", "xml"])
def test_a_purchase_over_http_through_each_gateway(gateway, live_server, world, eager):
    phone = dialer(
        gateway,
        f"{live_server.url}/hooks/ussd/{gateway}/{django_settings.WEBHOOK_SECRET}/",
        HODAN,
        SERVICE_CODE,
        network="63701",
    )
    screens = [phone.dial(), *(phone.send(answer) for answer in ("1", "1", "10", "1", "1"))]
    assert [s.end for s in screens] == [False] * 5 + [True]
    assert screens[-1].text == render("ussd.buy.approve", "so", wallet="EVC Plus", currency="USD", amount="10")
    purchase = Purchase.objects.get()
    assert purchase.state == PurchaseState.DELIVERED and purchase.idempotency_key == f"ussd:{phone.session_id}"
    token = purchase.tokens.get(kind="credit")
    assert any(token.grouped in text for text in texts_to(HODAN))
    assert f"{token.units}" in screens[4].text  # the units confirmed on screen are the token's
