"""The core models' admin pages live in the staff app (issue 14: no import from `vending` up into `backoffice`)
and keep every address staff have bookmarked: an admin URL is keyed by the model's app label and name, never by
the module that registers its ModelAdmin."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import reverse

from tests.backoffice.conftest import PASSWORD
from tests.factories import make_purchase

pytestmark = pytest.mark.django_db

# Each core model with a page of its own, and its list's address (as it was when vending/admin/ registered them).
CHANGELISTS = {
    "agent": "/admin/vending/agent/",
    "agentsale": "/admin/vending/agentsale/",
    "apikey": "/admin/vending/apikey/",
    "faultreport": "/admin/vending/faultreport/",
    "floatentry": "/admin/vending/floatentry/",
    "revenuefinding": "/admin/vending/revenuefinding/",
    "auditevent": "/admin/vending/auditevent/",
    "customer": "/admin/vending/customer/",
    "meter": "/admin/vending/meter/",
    "meterdebt": "/admin/vending/meterdebt/",
    "payment": "/admin/vending/payment/",
    "providercallback": "/admin/vending/providercallback/",
    "purchase": "/admin/vending/purchase/",
    "refund": "/admin/vending/refund/",
    "smsmessage": "/admin/vending/smsmessage/",
    "supplygroup": "/admin/vending/supplygroup/",
    "tariff": "/admin/vending/tariff/",
    "token": "/admin/vending/token/",
    "utility": "/admin/vending/utility/",
}


def test_every_core_model_page_is_registered_by_the_staff_app():
    core = {
        model._meta.model_name: type(page)
        for model, page in admin.site._registry.items()
        if model._meta.app_label == "vending"
    }
    assert set(core) == set(CHANGELISTS), "a core model page not listed here: add its address above"
    assert {cls.__module__.rpartition(".")[0] for cls in core.values()} == {"backoffice.admin"}


def test_the_core_model_pages_keep_their_addresses(client):
    assert {name: reverse(f"admin:vending_{name}_changelist") for name in CHANGELISTS} == CHANGELISTS
    assert reverse("admin:vending_meter_import") == "/admin/vending/meter/import/"
    assert reverse("admin:vending_purchase_story", args=[7]) == "/admin/vending/purchase/7/story/"
    assert reverse("admin:vending_purchase_reprint", args=[7]) == "/admin/vending/purchase/7/reprint/"
    assert reverse("admin:vending_purchase_resend", args=[7]) == "/admin/vending/purchase/7/resend/"
    User.objects.create_superuser(username="root", password=PASSWORD)
    client.login(username="root", password=PASSWORD)
    for address in CHANGELISTS.values():
        assert client.get(address).status_code == 200, address
    purchase = make_purchase(state="delivered")
    assert client.get(f"/admin/vending/purchase/{purchase.pk}/change/").status_code == 200
    assert client.get(f"/admin/vending/purchase/{purchase.pk}/story/").status_code == 200
