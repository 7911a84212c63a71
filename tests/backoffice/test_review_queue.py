"""The needs-review queue's actions in the admin (issue 17): query the provider again, confirm paid and vend
with a receipt, record a refund made by hand; Support has none of them."""

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.backoffice.conftest import PASSWORD
from tests.factories import make_meter, make_payment, make_purchase
from vending.models import AuditEvent, Payment, Purchase, Refund, Token

pytestmark = pytest.mark.django_db


def _under_review(amount="100"):
    purchase = make_purchase(make_meter(), amount=amount, state="needs_review", quote={"units": 50})
    make_payment(purchase, provider="sandbox", reference="SBX-R1")
    Payment.objects.filter(purchase=purchase).update(state="needs_review", flagged=True, flag_reason="no answer")
    return purchase


def _act(client, user, purchase, action, **fields):
    client.login(username=user.username, password=PASSWORD)
    return client.post(
        reverse("admin:vending_purchase_changelist"),
        {"action": action, "_selected_action": [purchase.pk], "apply": "1", **fields},
        follow=True,
    )


def test_confirm_paid_and_vend_makes_the_token(client, operator, eager, django_capture_on_commit_callbacks):
    purchase = _under_review()
    with django_capture_on_commit_callbacks(execute=True):
        page = _act(
            client,
            operator,
            purchase,
            "confirm_paid_and_vend",
            receipt="SBX99887766",
            reason="seen on the sandbox statement",
        ).content.decode()
    assert "paid; the token is being made" in page
    purchase.refresh_from_db()
    payment = Payment.objects.get(purchase=purchase)
    assert payment.state == "confirmed" and payment.receipt == "SBX99887766" and not payment.flagged
    assert purchase.state in ("vended", "delivered") and Token.objects.filter(purchase=purchase).count() == 1
    assert AuditEvent.objects.filter(action="purchase.confirmed_paid_by_staff", actor=operator).exists()


def test_a_manual_refund_with_a_receipt_completes(client, operator, django_capture_on_commit_callbacks):
    purchase = _under_review()
    with django_capture_on_commit_callbacks(execute=True):
        _act(
            client,
            operator,
            purchase,
            "record_manual_refund",
            receipt="SKR1234567",
            reason="paid back from the wallet portal",
        )
    purchase.refresh_from_db()
    assert purchase.state == "refunded"
    refund = Refund.objects.get(purchase=purchase)
    assert (refund.state, refund.receipt, refund.amount) == ("completed", "SKR1234567", Decimal("100"))


def test_a_large_manual_refund_waits_for_approval(client, operator):
    purchase = _under_review(amount="9000")
    page = _act(
        client, operator, purchase, "record_manual_refund", receipt="SKR1234567", reason="paid back"
    ).content.decode()
    assert "above the threshold" in page
    assert Purchase.objects.get(pk=purchase.pk).state == "needs_review" and not Refund.objects.exists()


def test_query_again_reports_the_provider_answer(client, operator, eager):
    purchase = _under_review()
    response = _act(client, operator, purchase, "query_provider")
    assert response.status_code == 200 and purchase.reference in response.content.decode()
    assert AuditEvent.objects.filter(action="purchase.provider_queried_by_staff", actor=operator).exists()


def test_support_has_no_review_actions(client, support):
    client.login(username=support.username, password=PASSWORD)
    page = client.get(reverse("admin:vending_purchase_changelist")).content.decode()
    for action in ("query_provider", "confirm_paid_and_vend", "record_manual_refund"):
        assert f'value="{action}"' not in page
    purchase = _under_review()
    _act(client, support, purchase, "record_manual_refund", receipt="SKR1234567", reason="x y z")
    assert not Refund.objects.exists()
