"""Support and vending-operator actions on a purchase: resend the token SMS, reprint, refund."""

from django.contrib.auth.models import User
from django.db import transaction

from backoffice.models import Approval
from backoffice.permissions import REFUND_PURCHASE, REPRINT_TOKEN, RESEND_TOKEN, require, require_reason
from backoffice.services.approval_rules import check_approved, refund_needs_approval
from vending.exceptions import InvalidTransition
from vending.models import Purchase, Token
from vending.services.audit import audit_record
from vending.services.payments import purchase_refund
from vending.services.tokens import token_resend


def staff_token_resend(*, actor: User, purchase: Purchase, reason: str = "") -> None:
    """Send the purchase's token SMS again to the phone that bought it (the customer called)."""
    require(actor, RESEND_TOKEN)
    with transaction.atomic():
        token_resend(purchase=purchase, phone=purchase.payer_phone)
        audit_record(
            action="purchase.token_resent_by_staff",
            obj=purchase,
            actor=actor,
            reason=reason.strip() or "customer asked for the token again",
            data={"phone": purchase.payer_phone},
        )


def staff_token_reprint(*, actor: User, purchase: Purchase, reason: str = "") -> list[Token]:
    """The purchase's tokens, in entry order, for staff to read out; each reprint is audited."""
    require(actor, REPRINT_TOKEN)
    tokens = list(purchase.tokens.order_by("sequence", "pk"))
    if not tokens:
        raise InvalidTransition("This purchase has no token yet.")
    audit_record(
        action="purchase.tokens_reprinted",
        obj=purchase,
        actor=actor,
        reason=reason.strip() or "read out to the customer",
        data={"token_ids": [t.pk for t in tokens]},
    )
    return tokens


def staff_purchase_refund(
    *, actor: User, purchase: Purchase, reason: str, approval: Approval | None = None
) -> Purchase:
    """Reverse or refund the payment of a purchase; the pipeline's purchase_refund moves the money and
    the states, this wrapper enforces the role and the mandatory reason. Above the refund threshold it
    needs an approved request (approvals.refund_request, decided by a second person)."""
    require(actor, REFUND_PURCHASE)
    reason = require_reason(reason)
    if refund_needs_approval(purchase=purchase):
        check_approved(approval, kind=Approval.Kind.REFUND, purchase=purchase)

    with transaction.atomic():
        before = {"state": purchase.state}
        result = purchase_refund(purchase=purchase, actor=actor, reason=reason)
        refreshed = result if isinstance(result, Purchase) else Purchase.objects.get(pk=purchase.pk)
        audit_record(
            action="purchase.refund_requested_by_staff",
            obj=refreshed,
            actor=actor,
            reason=reason,
            before=before,
            after={"state": refreshed.state},
        )
    return refreshed
