"""Every admin page (changelist, add, change, and the back office's own pages), rendered as a superuser,
never contains a vending key: not as hex in either case, not as raw bytes, not base64."""

import base64
import uuid

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import reverse

from backoffice.models import (
    KeyChangeCampaign,
    KeyChangeItem,
    MeterImport,
    ReconciliationLine,
    ReconciliationResolution,
    ReconciliationStatement,
)
from backoffice.services.approvals import vending_key_request
from tests.factories import make_customer, make_meter, make_payment, make_purchase, make_supply_group
from vending.models import AuditEvent, CustomerMeter, MeterDebt, ProviderCallback, SmsMessage, Token
from vending.services.keys import supply_group_set_vending_key
from vending.services.virtual_meters import virtual_meter_load

KEY = bytes.fromhex("0123456789abcdeffedcba98765432100a1b2c3d")  # DKGA04, 20 bytes
KEY02 = bytes.fromhex("a1b2c3d4e5f60718")


def _forbidden_forms(key: bytes) -> list[bytes]:
    return [key.hex().encode(), key.hex().upper().encode(), key, base64.b64encode(key), key.hex()[:12].encode()]


@pytest.fixture
def world(db):
    group = make_supply_group(dkga="04", ea="11")
    supply_group_set_vending_key(supply_group=group, key=KEY)
    group02 = make_supply_group(group.utility)
    supply_group_set_vending_key(supply_group=group02, key=KEY02)
    meter = make_meter(supply_group=group)
    virtual_meter_load(meter=meter)
    customer = make_customer()
    CustomerMeter.objects.create(customer=customer, meter=meter, alias="Home")
    MeterDebt.objects.create(meter=meter, description="arrears", currency="KES", original_amount=10, balance=5)
    purchase = make_purchase(meter, state="delivered")
    payment = make_payment(purchase, provider="daraja", reference="ws_CO_9")
    ProviderCallback.objects.create(provider="daraja", kind="stk_callback", payment=payment, dedupe_key="k1", body="{}")
    Token.objects.create(
        purchase=purchase,
        meter=meter,
        kind="credit",
        token_class=0,
        subclass=0,
        tid=5,
        units=1,
        digits="11112222333344445555",
    )
    SmsMessage.objects.create(direction="out", phone=customer.phone, text="hi", status="delivered", purchase=purchase)
    superuser = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-1")
    campaign = KeyChangeCampaign.objects.create(
        name="c", reason="r", mode="now", target_supply_group=group02, created_by=superuser, total=1
    )
    KeyChangeItem.objects.create(campaign=campaign, meter=meter, status="failed", error="x")
    MeterImport.objects.create(
        file_name="m.csv",
        created_by=superuser,
        report=[{"row": 2, "drn": meter.drn, "outcome": "exists", "message": ""}],
    )
    from vending.models import Refund

    Refund.objects.create(
        purchase=purchase,
        payment=payment,
        method="manual",
        state="completed",
        amount=10,
        currency="KES",
        receipt="SKR0001",
    )
    # Staff-login records (django-otp, django-axes) have admin pages too.
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=superuser, name="phone", confirmed=True)
    seen = {
        "username": "root",
        "ip_address": "127.0.0.1",
        "user_agent": "test",
        "http_accept": "*/*",
        "path_info": "/admin/login/",
    }
    AccessAttempt.objects.create(**seen, get_data="", post_data="", failures_since_start=1)
    AccessFailureLog.objects.create(**seen)
    AccessLog.objects.create(**seen)
    # A key waiting for its second custodian: the typed key (the 02 group's own) is kept only encrypted.
    vending_key_request(actor=superuser, supply_group=group02, key=KEY02[::-1], reason="rotation")
    statement = ReconciliationStatement.objects.create(source="mpesa", file_name="s.csv", uploaded_by=superuser)
    line = ReconciliationLine.objects.create(
        statement=statement, outcome="missing_ours", payment=payment, their_reference="SFX1", amount_theirs=10
    )
    ReconciliationLine.objects.create(statement=statement, outcome="missing_theirs", payment=payment)
    ReconciliationResolution.objects.create(line=line, action="acknowledge", reason="ok", resolved_by=superuser)
    AuditEvent.objects.create(
        action="x", object_type="purchase", object_id=str(purchase.pk), actor_label="t", purchase=purchase
    )
    # The partner API's agent records (vending/models/agents.py), one of each the admin lists.
    from vending.models import AgentSale, FaultReport, RevenueFinding, TokenVoid
    from vending.services.agents import agent_create

    agent, issued = agent_create(name="Agent", currency="KES", opening_float=100)
    sale = AgentSale.objects.create(
        agent=agent,
        terminal=agent.terminals.get(),
        client_id=uuid.uuid4(),
        fingerprint="f",
        method="float",
        purchase=purchase,
        amount=1,
        currency="KES",
        status_code=201,
        response_body="{}",
    )
    void = TokenVoid.objects.create(token=Token.objects.get(purchase=purchase), sale=sale, reason="test")
    RevenueFinding.objects.create(token_void=void, meter=meter, source="test")
    FaultReport.objects.create(agent=agent, terminal=agent.terminals.get(), meter_number=meter.drn, kind="other")
    return {"purchase": purchase, "superuser": superuser, "meter": meter, "api_key": issued.plaintext}


def _admin_urls(world) -> list[str]:
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = world["superuser"]
    urls = []
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse(f"admin:{info[0]}_{info[1]}_changelist"))
        if not model._meta.managed:
            continue
        if model_admin.has_add_permission(request):
            urls.append(reverse(f"admin:{info[0]}_{info[1]}_add"))
        obj = model.objects.first()
        assert obj is not None, f"the fixture has no {model.__name__}"
        urls.append(reverse(f"admin:{info[0]}_{info[1]}_change", args=[obj.pk]))
    purchase = world["purchase"]
    urls += [
        reverse("admin:index"),
        reverse("admin:vending_purchase_story", args=[purchase.pk]),
        reverse("admin:vending_meter_import"),
        reverse("admin:backoffice_lookup_changelist") + f"?q={world['meter'].drn}",
        reverse("admin:backoffice_dashboard_changelist") + "?days=30",
        reverse("admin:backoffice_reconciliationline_resolve", args=[ReconciliationLine.objects.last().pk]),
    ]
    return urls


def test_no_admin_page_renders_a_vending_key(client, world):
    client.force_login(world["superuser"])
    urls = _admin_urls(world)
    assert len(urls) > 40
    pages = [(url, client.get(url)) for url in urls]
    pages.append(("reprint", client.post(reverse("admin:vending_purchase_reprint", args=[world["purchase"].pk]))))
    for url, response in pages:
        assert response.status_code == 200, (url, response.status_code)
        for key in (KEY, KEY02, KEY02[::-1]):
            for form in _forbidden_forms(key):
                assert form not in response.content, url
        assert world["api_key"].encode() not in response.content, url  # an API key is shown once, at issue
    assert b"1111 2222 3333 4444 5555" in pages[-1][1].content  # the reprint itself does render the token


def test_the_supply_group_form_never_echoes_a_typed_key(client, world):
    from vending.models import SupplyGroup

    client.force_login(world["superuser"])
    group = SupplyGroup.objects.filter(dkga="02").first()
    url = reverse("admin:vending_supplygroup_change", args=[group.pk])
    response = client.post(
        url,
        {
            "utility": group.utility_id,
            "name": "",
            "sgc": "12",
            "key_revision": group.key_revision,
            "dkga": "02",
            "ea": "07",
            "base_date": 2014,
            "ken": 255,
            "new_vending_key": "00112233445566778899",
        },
    )
    assert response.status_code == 200  # the form has errors and is shown again
    assert b"00112233445566778899" not in response.content
