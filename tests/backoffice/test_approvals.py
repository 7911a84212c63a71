"""Maker-checker (issue 17): vending keys, large refunds, large free tokens and tariff changes need a second
person of the right role with a reason; the maker cannot approve their own request; every step audited."""

from decimal import Decimal

import pytest

from backoffice.models import Approval, KeyChangeCampaign
from backoffice.roles import FINANCE, KEY_CUSTODIAN, VENDING_OPERATOR
from backoffice.services.approvals import (
    ApprovalRequired,
    approval_decide,
    free_token_request,
    refund_request,
    tariff_change_request,
    vending_key_request,
)
from backoffice.services.meter_tokens import free_token_issue
from backoffice.services.support import staff_purchase_refund
from tests.backoffice.conftest import make_staff
from tests.factories import make_meter, make_purchase, make_supply_group
from vending.exceptions import PermissionDenied, VendingError
from vending.models import AuditEvent, Meter, SupplyGroup, Token
from vending.services.keys import supply_group_set_vending_key
from vending.services.virtual_meters import meter_config
from vending.sts import decode_token

pytestmark = pytest.mark.django_db
NEW_KEY = bytes.fromhex("0123456789abcdef")


def _audit(approval):
    return [
        (e.action, e.actor.username)
        for e in AuditEvent.objects.filter(object_type="approval", object_id=str(approval.pk)).order_by("pk")
    ]


def test_a_new_key_for_a_group_without_meters_is_set_only_after_a_second_custodian_approves(custodian):
    group = SupplyGroup.objects.create(
        utility=make_supply_group().utility,
        name="New",
        sgc="777001",
        key_revision=1,
        dkga="02",
        ea="07",
        base_date=2014,
    )
    approval = vending_key_request(actor=custodian, supply_group=group, key=NEW_KEY, reason="new group")
    group.refresh_from_db()
    assert not group.has_vending_key and approval.secret_encrypted  # nothing used until approved
    with pytest.raises(PermissionDenied, match="second person"):
        approval_decide(actor=custodian, approval=approval, approve=True, reason="looks right")
    second = make_staff(KEY_CUSTODIAN, "custodian2")
    approval_decide(actor=second, approval=approval, approve=True, reason="checked the key ceremony sheet")
    group.refresh_from_db()
    approval.refresh_from_db()
    assert group.vending_key() == NEW_KEY and approval.status == "approved" and approval.secret_encrypted is None
    assert _audit(approval) == [("approval.requested", "key_custodian"), ("approval.approved", "custodian2")]
    assert AuditEvent.objects.filter(action="supply_group.vending_key_set", actor=second).exists()


def test_a_key_change_for_a_group_with_meters_keeps_the_old_key_and_plans_a_precoded_campaign(
    custodian, eager, django_capture_on_commit_callbacks
):
    group = make_supply_group(key_revision=1)
    old_key = group.vending_key()
    meters = [make_meter(supply_group=group) for _ in range(2)]
    approval = vending_key_request(actor=custodian, supply_group=group, key=NEW_KEY, reason="key compromised")
    with django_capture_on_commit_callbacks(execute=True):
        approval_decide(
            actor=make_staff(KEY_CUSTODIAN, "custodian2"), approval=approval, approve=True, reason="incident 42"
        )
    group.refresh_from_db()
    assert group.vending_key() == old_key  # old tokens still decode
    new_group = SupplyGroup.objects.get(sgc=group.sgc, key_revision=2)
    assert new_group.vending_key() == NEW_KEY
    campaign = KeyChangeCampaign.objects.get()
    assert campaign.mode == "precode" and campaign.target_supply_group == new_group and campaign.total == 2
    for meter in meters:
        assert Meter.objects.get(pk=meter.pk).pending_supply_group == new_group


def test_the_key_of_a_group_with_meters_is_never_replaced_in_place():
    group = make_supply_group()
    make_meter(supply_group=group)
    with pytest.raises(ValueError, match="never replaced in place"):
        supply_group_set_vending_key(supply_group=group, key=NEW_KEY)


def test_a_weak_key_cannot_even_be_requested(custodian):
    with pytest.raises(VendingError, match="weak"):
        vending_key_request(
            actor=custodian, supply_group=make_supply_group(), key=bytes.fromhex("FF" * 8), reason="typo"
        )


def test_only_custodians_request_or_approve_keys(operator, custodian):
    with pytest.raises(PermissionDenied):
        vending_key_request(actor=operator, supply_group=make_supply_group(), key=NEW_KEY, reason="try")
    approval = vending_key_request(actor=custodian, supply_group=make_supply_group(), key=NEW_KEY, reason="rotate")
    with pytest.raises(PermissionDenied):
        approval_decide(actor=operator, approval=approval, approve=True, reason="ok by me")


def test_a_refund_above_the_threshold_needs_a_second_operator(operator):
    purchase = make_purchase(amount="6000", state="paid")
    with pytest.raises(ApprovalRequired):
        staff_purchase_refund(actor=operator, purchase=purchase, reason="customer asked")
    approval = refund_request(actor=operator, purchase=purchase, reason="vend failed twice")
    with pytest.raises(PermissionDenied):
        approval_decide(actor=operator, approval=approval, approve=True, reason="mine")
    second = make_staff(VENDING_OPERATOR, "operator2")
    decision = approval_decide(actor=second, approval=approval, approve=False, reason="customer got the token")
    assert decision.approval.status == "rejected"
    purchase.refresh_from_db()
    assert purchase.state == "paid"
    assert _audit(approval) == [("approval.requested", "vending_operator"), ("approval.rejected", "operator2")]
    with pytest.raises(VendingError, match="already decided"):
        approval_decide(actor=second, approval=approval, approve=True, reason="changed my mind")


def test_a_free_token_above_the_daily_kwh_needs_a_second_operator(operator, now):
    meter = make_meter()
    free_token_issue(actor=operator, meter=meter, kwh=Decimal("15"), reason="goodwill", delivery="show", now=now)
    with pytest.raises(ApprovalRequired):  # 15 + 10 kWh today is above the 20 kWh one person may give
        free_token_issue(actor=operator, meter=meter, kwh=Decimal("10"), reason="more", delivery="show", now=now)
    approval = free_token_request(
        actor=operator, meter=meter, kwh=Decimal("10"), delivery="show", reason="outage compensation"
    )
    second = make_staff(VENDING_OPERATOR, "operator2")
    decision = approval_decide(actor=second, approval=approval, approve=True, reason="outage confirmed", now=now)
    token = decision.outcome.token
    assert token.kind == Token.Kind.FREE and token.units == Decimal("10.0")
    assert decode_token(token.digits, meter_config(meter=meter)).units == 100
    assert _audit(approval) == [("approval.requested", "vending_operator"), ("approval.approved", "operator2")]


def test_a_tariff_change_waits_for_a_second_finance_person(finance):
    meter = make_meter()
    tariff = meter.tariff
    approval = tariff_change_request(
        actor=finance, tariff=tariff, changes={"price_per_kwh": Decimal("25.5")}, reason="regulator's new price"
    )
    tariff.refresh_from_db()
    assert tariff.price_per_kwh == Decimal("20")
    approval_decide(actor=make_staff(FINANCE, "finance2"), approval=approval, approve=True, reason="gazette 12")
    tariff.refresh_from_db()
    assert tariff.price_per_kwh == Decimal("25.5")
    assert AuditEvent.objects.get(action="tariff.changed").before == {"price_per_kwh": "20.0000"}
    assert Approval.objects.get().checker.username == "finance2"
