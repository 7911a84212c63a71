"""The needs-review queue's actions and the refund actions staff take (issue 17).

Each starts with the role check and a reason, like every staff service:
- query the provider again (`staff_payment_query`);
- confirm paid and vend: staff saw the money on the provider's statement (`staff_confirm_paid_and_vend`);
- refund: the purchase admin's refund action (support.staff_purchase_refund: through the provider where
  it can, an M-Pesa reversal when configured), or record a refund made by hand with the provider's
  receipt (`staff_refund_record_manual`).
"""

from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from backoffice.permissions import REFUND_PURCHASE, require, require_reason
from backoffice.services.approval_rules import ApprovalRequired, refund_needs_approval
from vending import pipeline
from vending.exceptions import InvalidTransition
from vending.models import Payment, Purchase, Refund
from vending.services.audit import audit_record
from vending.services.payments import payment_query, payment_request_for
from vending.services.providers import provider_named
from vending.services.refunds import refund_record_manual
from vending.services.transitions import transition
from vending.states import PaymentState, PurchaseState


def staff_payment_query(*, actor: User, purchase: Purchase, reason: str = "") -> Payment:
    """Ask the provider again how the payment ended (an open payment only; a flagged one stays with staff)."""
    require(actor, REFUND_PURCHASE)
    payment = Payment.objects.get(purchase=purchase)
    audit_record(
        action="purchase.provider_queried_by_staff",
        obj=purchase,
        actor=actor,
        reason=reason.strip() or "query the provider again",
        data={"payment_state": payment.state},
    )
    if payment.state == PaymentState.NEEDS_REVIEW:
        # payment_query leaves a payment under review alone; ask the provider directly and report.
        provider = provider_named(payment.provider)
        if not provider.capabilities.supports_query:
            raise InvalidTransition(f"{provider.name} cannot be asked about a payment.")
        result = provider.query_status(payment.provider_reference, payment_request_for(purchase))
        Payment.objects.filter(pk=payment.pk).update(provider_message=f"staff query: {result.outcome}"[:255])
        payment.refresh_from_db()
        return payment
    return payment_query(payment_id=payment.pk)


def staff_confirm_paid_and_vend(*, actor: User, purchase: Purchase, receipt: str, reason: str) -> Purchase:
    """Staff found the money on the provider's statement: mark the payment confirmed and vend."""
    require(actor, REFUND_PURCHASE)
    reason = require_reason(reason)
    receipt = receipt.strip()
    if len(receipt) < 4:
        raise InvalidTransition("Enter the provider's receipt you found on the statement.")
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("purchase").get(purchase=purchase)
        if payment.state != PaymentState.NEEDS_REVIEW or payment.purchase.state != PurchaseState.NEEDS_REVIEW:
            raise InvalidTransition(f"Purchase {purchase.reference} is not waiting for review.")
        transition(
            payment,
            PaymentState.CONFIRMED,
            actor=actor,
            reason=f"confirmed by staff: {reason}"[:255],
            fields={
                "receipt": receipt[:64],
                "amount_confirmed": payment.amount_requested,
                "flagged": False,
                "flag_reason": "",
            },
            locked=True,
        )
        purchase, _ = transition(payment.purchase, PurchaseState.PAID, actor=actor, reason=reason[:255])
        audit_record(
            action="purchase.confirmed_paid_by_staff",
            obj=purchase,
            actor=actor,
            reason=reason,
            data={"receipt": receipt},
        )
        pipeline.record(pipeline.Work.VEND, purchase.pk)  # the vend task, once committed
    return purchase


def staff_refund_record_manual(
    *, actor: User, purchase: Purchase, receipt: str, reason: str, amount: Decimal | None = None
) -> Refund:
    """The money went back by hand: record the provider's receipt and mark the refund done."""
    require(actor, REFUND_PURCHASE)
    reason = require_reason(reason)
    if refund_needs_approval(purchase=purchase) and purchase.state != PurchaseState.REFUND_PENDING:
        raise ApprovalRequired("This refund is above the threshold: open an approval request.")
    return refund_record_manual(purchase=purchase, receipt=receipt, actor=actor, reason=reason, amount=amount)
