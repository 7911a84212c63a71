"""Issuing STS tokens for a paid purchase (and resending them).

One credit token per purchase: a second `token_issue` returns the first one (DB constraint + row lock).
The tokens come from `vending.services.issuing.meter_token_issue`, the one issue path staff tokens and key
changes use too (meter lock, TID, a check on a virtual meter; see there). A pending key change goes
first: its tokens are made under the current key, the meter row moves to the new key, and the credit
token is made under the new key; the move is audited with the purchase.
"""

import logging
import os
import time
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from vending import phones
from vending.exceptions import InvalidTransition, PermissionDenied
from vending.models import Meter, Purchase, Token
from vending.services.audit import audit_record
from vending.services.issuing import Credit, TokenOrder, meter_token_issue, pending_key_change
from vending.services.transitions import transition
from vending.states import PurchaseState
from vending.sts import MeterConfig

log = logging.getLogger(__name__)

# Test-only hook (the SIGKILL test): seconds to sleep after the purchase and meter rows are locked, so a
# worker can be killed mid-vend. Never set it in production; it only slows this one step.
PAUSE_ENV = "KORONTO_TEST_VEND_PAUSE_SECONDS"


def _pause_for_tests() -> None:
    seconds = float(os.environ.get(PAUSE_ENV) or 0)
    if seconds > 0:
        log.warning("vend paused %.1fs by %s (test hook)", seconds, PAUSE_ENV)
        time.sleep(seconds)


def token_issue(*, purchase: Purchase, now: datetime | None = None) -> list[Token]:
    """The purchase's tokens (key-change tokens first, then the credit token), issuing them if needed."""
    now = now or timezone.now()
    with transaction.atomic():
        purchase = Purchase.objects.select_for_update().get(pk=purchase.pk)
        existing = list(purchase.tokens.order_by("kind", "sequence"))
        if any(t.kind == Token.Kind.CREDIT for t in existing):
            return _ordered(existing)
        if purchase.state != PurchaseState.PAID:
            raise InvalidTransition(f"purchase {purchase.reference} is {purchase.state}, not paid")
        return token_issue_locked(purchase=purchase, now=now)


def token_issue_locked(*, purchase: Purchase, now: datetime) -> list[Token]:
    """Issue the tokens of a PAID purchase whose row the caller locked in the current transaction (and
    which has no credit token yet: a PAID purchase never has one). Moves it to VENDED.

    This is the vend inside `payment_confirm`, so money in, token and token SMS commit together.
    """
    units = int(purchase.quote["units"])

    def order(meter: Meter) -> TokenOrder:
        _pause_for_tests()  # the meter row is locked now: the point the SIGKILL test kills a worker at
        return TokenOrder(key_change=pending_key_change(meter), token=Credit(units=units))

    issued = meter_token_issue(meter_id=purchase.meter_id, order=order, now=now, purchase=purchase)
    purchase.meter = issued.meter  # the token SMS shows the DRN: no second read of the meter
    tokens = issued.tokens
    if issued.key_changed:
        audit_record(
            action="meter.key_changed",
            obj=issued.meter,
            purchase=purchase,
            before=_describe(issued.before),
            after=_describe(issued.after),
        )
    transition(
        purchase,
        PurchaseState.VENDED,
        reason="token issued",
        locked=True,
        data={"tid": tokens[-1].tid, "units": str(tokens[-1].units), "key_change_tokens": len(tokens) - 1},
    )
    return tokens


def _describe(config: MeterConfig) -> dict[str, str | int]:
    return {"sgc": config.sgc, "krn": config.krn, "ti": config.ti, "base_date": config.base_date}


def _ordered(tokens: list[Token]) -> list[Token]:
    keys = sorted((t for t in tokens if t.kind == Token.Kind.KEY_CHANGE), key=lambda t: t.sequence)
    return keys + [t for t in tokens if t.kind != Token.Kind.KEY_CHANGE]


def token_resend(*, purchase: Purchase, phone: str) -> None:
    """Send the purchase's token SMS again, only to the phone that bought it."""
    from vending.services.sms import token_sms_send

    try:
        asked = phones.normalise(phone)
    except phones.InvalidPhoneNumber as exc:
        raise PermissionDenied("This purchase was not made from your number.") from exc
    buyers = {purchase.payer_phone}
    if purchase.customer is not None:
        buyers.add(purchase.customer.phone)
    if asked not in buyers:
        raise PermissionDenied("This purchase was not made from your number.")
    if not purchase.tokens.filter(kind=Token.Kind.CREDIT).exists():
        raise InvalidTransition("The token for this purchase is not ready yet. It will come by SMS.")
    token_sms_send(purchase=purchase, phone=asked)
