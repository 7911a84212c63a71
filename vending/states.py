"""Every stateful model's states and the moves allowed between them, as data (docs/DESIGN.md rule 4).

Only `vending.services.transitions.transition` assigns a state; it consults these tables.
"""

from django.db import models

from vending.exceptions import InvalidTransition


class PurchaseState(models.TextChoices):
    CREATED = "created", "Created"
    PAYMENT_PENDING = "payment_pending", "Waiting for payment"
    PAID = "paid", "Paid, token not yet issued"
    VENDED = "vended", "Token issued"
    DELIVERED = "delivered", "Token delivered by SMS"
    PAYMENT_FAILED = "payment_failed", "Payment failed"
    NEEDS_REVIEW = "needs_review", "Needs staff review"
    REFUND_PENDING = "refund_pending", "Refund in progress"
    REFUNDED = "refunded", "Refunded"
    CANCELLED = "cancelled", "Cancelled"


class PaymentState(models.TextChoices):
    INITIATED = "initiated", "Initiated (push not yet accepted)"
    PENDING = "pending", "Push sent, waiting for the customer"
    UNKNOWN = "unknown", "Outcome unknown (timeout), being confirmed"
    HELD = "held", "Funds held (pre-authorised)"
    CONFIRMED = "confirmed", "Paid"
    FAILED = "failed", "Failed"
    NEEDS_REVIEW = "needs_review", "Needs staff review"
    CANCELLED = "cancelled", "Hold released"
    REFUNDED = "refunded", "Refunded"


class SmsState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent to the gateway"
    SUBMITTED = "submitted", "Submitted to the operator"
    BUFFERED = "buffered", "Buffered by the operator"
    DELIVERED = "delivered", "Delivered"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"


_P = PurchaseState
PURCHASE_TRANSITIONS: dict[str, frozenset[str]] = {
    _P.CREATED: frozenset({_P.PAYMENT_PENDING, _P.PAYMENT_FAILED, _P.CANCELLED, _P.PAID}),
    _P.PAYMENT_PENDING: frozenset({_P.PAID, _P.PAYMENT_FAILED, _P.NEEDS_REVIEW}),
    _P.PAID: frozenset({_P.VENDED, _P.NEEDS_REVIEW, _P.REFUND_PENDING}),
    # VENDED/DELIVERED → REFUNDED: an agent's reversal voids the token and refunds the float (services/agents.py).
    _P.VENDED: frozenset({_P.DELIVERED, _P.REFUNDED}),
    _P.DELIVERED: frozenset({_P.REFUNDED}),
    _P.PAYMENT_FAILED: frozenset({_P.PAID, _P.NEEDS_REVIEW}),  # a late but genuine confirmation
    _P.NEEDS_REVIEW: frozenset({_P.PAID, _P.PAYMENT_FAILED, _P.REFUND_PENDING, _P.CANCELLED}),
    _P.REFUND_PENDING: frozenset({_P.REFUNDED, _P.NEEDS_REVIEW}),
    _P.REFUNDED: frozenset(),
    _P.CANCELLED: frozenset(),
}

_Y = PaymentState
PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    _Y.INITIATED: frozenset({_Y.PENDING, _Y.HELD, _Y.CONFIRMED, _Y.FAILED, _Y.UNKNOWN}),
    _Y.PENDING: frozenset({_Y.CONFIRMED, _Y.FAILED, _Y.UNKNOWN, _Y.NEEDS_REVIEW}),
    _Y.UNKNOWN: frozenset({_Y.CONFIRMED, _Y.HELD, _Y.FAILED, _Y.NEEDS_REVIEW}),
    _Y.HELD: frozenset({_Y.CONFIRMED, _Y.CANCELLED, _Y.NEEDS_REVIEW}),
    _Y.CONFIRMED: frozenset({_Y.REFUNDED, _Y.NEEDS_REVIEW}),
    _Y.FAILED: frozenset({_Y.CONFIRMED, _Y.NEEDS_REVIEW}),
    _Y.NEEDS_REVIEW: frozenset({_Y.CONFIRMED, _Y.FAILED, _Y.REFUNDED, _Y.CANCELLED}),
    _Y.CANCELLED: frozenset(),
    _Y.REFUNDED: frozenset(),
}

_S = SmsState
_SMS_FINAL = frozenset({_S.DELIVERED, _S.REJECTED, _S.FAILED})
SMS_TRANSITIONS: dict[str, frozenset[str]] = {
    _S.QUEUED: frozenset({_S.SENT, _S.SUBMITTED, _S.BUFFERED, *_SMS_FINAL}),
    _S.SENT: frozenset({_S.SUBMITTED, _S.BUFFERED, *_SMS_FINAL}),
    _S.SUBMITTED: frozenset({_S.BUFFERED, *_SMS_FINAL}),
    _S.BUFFERED: frozenset({_S.SUBMITTED, *_SMS_FINAL}),
    # After a final status, later interim reports are ignored (docs/PROTOCOLS.md §2.3).
    _S.DELIVERED: frozenset(),
    _S.REJECTED: frozenset(),
    _S.FAILED: frozenset(),
    _S.RECEIVED: frozenset({_S.PROCESSED}),
    _S.PROCESSED: frozenset(),
}


def check_transition(table: dict[str, frozenset[str]], current: str, target: str) -> None:
    """Raise InvalidTransition unless `table` allows current → target (a repeat is the caller's no-op)."""
    if target not in table.get(current, frozenset()):
        raise InvalidTransition(f"cannot move from {current!r} to {target!r}")
