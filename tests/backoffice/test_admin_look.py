"""The admin looks like koronto's (issue 17): its header, an index grouped by task, a real "View site"; the
quote readable; an unflagged payment not a red cross; a failed vend says why on the purchase."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.backoffice.conftest import PASSWORD
from tests.factories import make_payment, make_purchase

pytestmark = pytest.mark.django_db


def test_the_header_and_the_index_are_korontos(client, operator, settings):
    settings.DEMO_MODE = True
    client.login(username=operator.username, password=PASSWORD)
    page = client.get("/admin/").content.decode()
    assert "koronto back office" in page and "Django administration" not in page
    groups = [app["name"] for app in admin.site.get_app_list(client.get("/admin/").wsgi_request)]
    assert groups[:2] == ["Help a customer", "Approvals and money"]
    assert "Meters and keys" in groups
    assert 'href="/simulator/"' in page  # "View site" goes to the phone simulator in demo mode
    assert client.get("/simulator/").status_code == 200


def test_without_demo_there_is_no_view_site_link(client, operator, settings):
    settings.DEMO_MODE = False
    client.login(username=operator.username, password=PASSWORD)
    page = client.get("/admin/").content.decode()
    assert "View site" not in page


def test_the_quote_is_shown_for_people_and_an_unflagged_payment_is_no_red_cross(client, operator):
    purchase = make_purchase(
        state="delivered",
        quote={
            "amount": "500",
            "currency": "KES",
            "fixed_charge": "0",
            "debt_recovery": "0",
            "vat": "68.97",
            "vat_percent": "16",
            "energy_amount": "431.03",
            "kwh": "28.3",
            "units": 283,
            "blocks_used": [{"kwh": "28.3", "price": "15.23", "cost": "431.03"}],
        },
    )
    make_payment(purchase, provider="sandbox", reference="SBX-L1")
    client.login(username=operator.username, password=PASSWORD)
    page = client.get(reverse("admin:vending_purchase_change", args=[purchase.pk])).content.decode()
    assert "KES 500.00 = 28.3 kWh" in page and "VAT 68.97 (16%)" in page
    assert '"blocks_used"' not in page and "&quot;blocks_used&quot;" not in page
    listing = client.get(reverse("admin:vending_payment_changelist")).content.decode()
    assert "icon-no.svg" not in listing


def test_a_failed_vend_fills_the_purchases_failure_reason(kenya_meter_vend_fails):
    purchase = kenya_meter_vend_fails
    assert purchase.state == "refund_pending" and purchase.failure_reason == "vend_failed"


@pytest.fixture
def kenya_meter_vend_fails(monkeypatch, eager, django_capture_on_commit_callbacks):
    import vending.services.vend as vend  # the one vend path, which every channel's paid purchase takes
    from tests.factories import make_meter
    from tests.pipeline.helpers import buy
    from vending.exceptions import StsError

    def refuse(**kwargs):
        raise StsError("the STS engine refused: test")

    monkeypatch.setattr(vend, "token_issue_locked", refuse)
    purchase = buy(django_capture_on_commit_callbacks, make_meter(), amount="100")
    purchase.refresh_from_db()
    return purchase
