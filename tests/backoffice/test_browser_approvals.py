"""Maker-checker in the real admin, in headless Chromium (issue 17, Done when 2): a new vending key, a large
refund and a large free token each wait for a second person of the role, never the maker, and the audit
trail shows both people."""

from decimal import Decimal

import pytest

from backoffice.models import Approval, KeyChangeCampaign
from tests.backoffice.conftest import make_staff
from tests.backoffice.test_browser import browser, login  # noqa: F401 - the Chromium fixture
from tests.factories import make_meter, make_payment, make_purchase, make_supply_group
from vending.models import AuditEvent, Payment, SupplyGroup, Token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _switch_user(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    login(page, live_server, username)


def _approval_page(page, live_server, approval: Approval) -> None:
    page.goto(f"{live_server.url}/admin/backoffice/approval/{approval.pk}/change/")
    page.wait_for_selector("#content-main")


def _maker_cannot_then_checker_approves(page, live_server, approval, maker, checker, reason):
    _approval_page(page, live_server, approval)
    assert "You asked for this yourself" in page.inner_text("#own-request")
    assert page.query_selector("#approve") is None
    _switch_user(page, live_server, checker.username)
    _approval_page(page, live_server, approval)
    page.fill("#decide #id_reason", reason)
    page.click("#approve")
    page.wait_for_load_state()
    approval.refresh_from_db()
    assert approval.status == "approved" and approval.checker == checker and approval.maker == maker
    page.goto(f"{live_server.url}/admin/vending/auditevent/?object_type=approval&object_id={approval.pk}")
    audit = page.inner_text("#result_list")
    assert "approval.requested" in audit and maker.username in audit
    assert "approval.approved" in audit and checker.username in audit


def test_a_new_vending_key_needs_a_second_key_custodian(browser, live_server, eager):  # noqa: F811
    maker, checker = make_staff("Key custodian", "custodian_a"), make_staff("Key custodian", "custodian_b")
    group = make_supply_group(key_revision=1)
    old_key = group.vending_key()
    meter = make_meter(supply_group=group)
    login(browser, live_server, maker.username)
    browser.goto(f"{live_server.url}/admin/vending/supplygroup/{group.pk}/change/")
    browser.fill("#id_new_vending_key", "0123456789abcdef")
    browser.fill("#id_key_reason", "annual key rotation")
    browser.click("input[name=_save]")
    browser.wait_for_selector(".messagelist")
    assert "a second key custodian must approve it" in browser.inner_text(".messagelist")
    group.refresh_from_db()
    assert group.vending_key() == old_key
    approval = Approval.objects.get(kind="vending_key")

    _maker_cannot_then_checker_approves(browser, live_server, approval, maker, checker, "rotation sheet signed")
    group.refresh_from_db()
    assert group.vending_key() == old_key  # kept: the meter's old tokens still decode
    new_group = SupplyGroup.objects.get(sgc=group.sgc, key_revision=2)
    assert new_group.vending_key() == bytes.fromhex("0123456789abcdef")
    assert KeyChangeCampaign.objects.get().target_supply_group == new_group
    meter.refresh_from_db()
    assert meter.pending_supply_group == new_group
    assert b"0123456789abcdef" not in browser.content().encode().lower()


def test_a_large_refund_needs_a_second_operator(browser, live_server, eager):  # noqa: F811
    maker, checker = make_staff("Vending operator", "operator_a"), make_staff("Vending operator", "operator_b")
    purchase = make_purchase(amount="6000", state="paid")
    make_payment(purchase, provider="sandbox", reference="SBX-6000")
    Payment.objects.filter(purchase=purchase).update(state="confirmed", amount_confirmed=Decimal("6000"))
    login(browser, live_server, maker.username)
    browser.goto(f"{live_server.url}/admin/vending/purchase/")
    browser.check(f"input[name=_selected_action][value='{purchase.pk}']")
    browser.select_option("select[name=action]", "refund")
    browser.click("button[name=index]")
    browser.fill("#id_reason", "meter would not accept the token")
    browser.click("input[name=apply]")
    browser.wait_for_selector(".messagelist")
    assert "waits for a second person's approval" in browser.inner_text(".messagelist")
    purchase.refresh_from_db()
    assert purchase.state == "paid"
    approval = Approval.objects.get(kind="refund")

    _maker_cannot_then_checker_approves(browser, live_server, approval, maker, checker, "customer called twice")
    purchase.refresh_from_db()
    assert purchase.state in ("refund_pending", "refunded")
    assert AuditEvent.objects.filter(action="purchase.refund_requested_by_staff", actor=checker).exists()


def test_a_large_free_token_needs_a_second_operator(browser, live_server):  # noqa: F811
    maker, checker = make_staff("Vending operator", "operator_a"), make_staff("Vending operator", "operator_b")
    meter = make_meter()
    login(browser, live_server, maker.username)
    browser.goto(f"{live_server.url}/admin/vending/meter/")
    browser.check(f"input[name=_selected_action][value='{meter.pk}']")
    browser.select_option("select[name=action]", "free_token")
    browser.click("button[name=index]")
    browser.fill("#id_kwh", "30")
    browser.select_option("#id_delivery", "show")
    browser.fill("#id_reason", "three-day outage compensation")
    browser.click("input[name=apply]")
    browser.wait_for_selector(".messagelist")
    assert "waits for a second person's approval" in browser.inner_text(".messagelist")
    assert not Token.objects.filter(kind="free").exists()
    approval = Approval.objects.get(kind="free_token")

    _approval_page(browser, live_server, approval)
    assert browser.query_selector("#approve") is None
    _switch_user(browser, live_server, checker.username)
    _approval_page(browser, live_server, approval)
    browser.fill("#decide #id_reason", "outage confirmed by the grid team")
    browser.click("#approve")
    browser.wait_for_selector("#tokens-once")
    token = Token.objects.get(kind="free")
    assert token.units == Decimal("30.0") and token.grouped in browser.inner_text("#tokens-once")
    browser.goto(f"{live_server.url}/admin/vending/auditevent/?object_type=approval&object_id={approval.pk}")
    audit = browser.inner_text("#result_list")
    assert "operator_a" in audit and "operator_b" in audit and "approval.approved" in audit
