"""Lookups (issue 17): local phone formats normalised for the utility's country, meter numbers with spaces or
dashes; and no oracle: token digits are searchable only with the reprint right, and such a search is audited."""

from decimal import Decimal

import pytest
from django.urls import reverse

from backoffice.lookup_terms import phone_forms
from backoffice.story import find_by_number
from tests.backoffice.conftest import PASSWORD, make_staff
from tests.factories import make_customer, make_meter, make_purchase, make_supply_group, make_utility
from vending.models import AuditEvent, Token

pytestmark = pytest.mark.django_db
PHONE_FORMS = ["0711000111", "0711 000 111", "711000111", "+254 711 000 111"]


@pytest.fixture
def kenyan():
    group = make_supply_group(make_utility("KE", "KES"))
    meter = make_meter(supply_group=group, drn="04123456784")
    customer = make_customer("+254711000111")
    purchase = make_purchase(meter, payer_phone="+254711000111", state="delivered")
    return customer, meter, purchase


@pytest.mark.parametrize("typed", PHONE_FORMS)
def test_find_by_number_accepts_local_phone_formats(kenyan, typed):
    customer, _, purchase = kenyan
    found = {(f.kind, f.pk) for f in find_by_number(typed)}
    assert ("customer", customer.pk) in found and ("purchase", purchase.pk) in found


def test_find_by_number_accepts_a_meter_number_with_dashes_or_spaces(kenyan):
    _, meter, _ = kenyan
    for typed in ("0412-345-6784", "0412 345 6784"):
        assert ("meter", meter.pk) in {(f.kind, f.pk) for f in find_by_number(typed)}


def test_local_formats_are_read_in_each_utilitys_country(kenyan):
    make_utility("SO", "USD")
    # Each utility's country reads the local form its own way; every valid reading is searched.
    assert "+252611000111" in phone_forms("0611000111")
    assert "+254711000111" in phone_forms("0711000111")
    assert phone_forms("0611000111", regions=["KE"]) <= {"+254611000111"}
    assert phone_forms("hello") == set()


@pytest.mark.parametrize("typed", [*PHONE_FORMS, "0412-345-6784"])
def test_the_admin_search_boxes_accept_the_same_forms(client, kenyan, typed):
    _, meter, purchase = kenyan
    client.force_login(make_staff("Support"))
    if typed.startswith("0412"):
        page = client.get(reverse("admin:vending_meter_changelist"), {"q": typed}).content.decode()
        assert meter.drn in page and "0 meters" not in page
    else:
        page = client.get(reverse("admin:vending_customer_changelist"), {"q": typed}).content.decode()
        assert "+254711000111" in page and "0 customers" not in page
        page = client.get(reverse("admin:vending_purchase_changelist"), {"q": typed}).content.decode()
        assert purchase.reference in page


def _token(meter):
    return Token.objects.create(
        meter=meter, kind="credit", token_class=0, subclass=0, tid=9, units=Decimal("5"), digits="55554444333322221111"
    )


@pytest.mark.parametrize("typed", ["5555", "555544443333", "55554444333322221111", "5555 4444 3333 2222 1111"])
def test_a_role_without_reprint_gets_no_result_from_a_digit_search(client, kenyan, typed):
    _token(kenyan[1])
    custodian = make_staff("Key custodian")  # may view tokens, may not reprint them
    client.login(username=custodian.username, password=PASSWORD)
    page = client.get(reverse("admin:vending_token_changelist"), {"q": typed}).content.decode()
    assert "0 tokens" in page
    assert not AuditEvent.objects.filter(action="token.searched_by_digits").exists()


def test_with_reprint_only_the_whole_token_finds_it_and_the_search_is_audited(client, kenyan):
    token = _token(kenyan[1])
    support = make_staff("Support")
    client.login(username=support.username, password=PASSWORD)
    page = client.get(reverse("admin:vending_token_changelist"), {"q": "555544443333"}).content.decode()
    assert "0 tokens" in page  # no prefix oracle even with the right
    page = client.get(reverse("admin:vending_token_changelist"), {"q": "5555 4444 3333 2222 1111"}).content.decode()
    assert f"/admin/vending/token/{token.pk}/change/" in page
    event = AuditEvent.objects.get(action="token.searched_by_digits")
    assert event.actor == support and event.data == {"last_digits": "1111", "found": 1}
    assert "55554444333322221111" not in str(event.data)
