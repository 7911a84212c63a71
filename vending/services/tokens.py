"""Issuing STS tokens for a paid purchase (and resending them).

One credit token per purchase: a second `token_issue` returns the first one (DB constraint + row lock).
The TID comes from `vending.sts.next_tid` under a lock on the Meter row, so two vends for one meter in
the same minute take successive minutes. A pending key change goes first: its tokens are issued in
order under the current key, the meter row moves to the new key, and the credit token is made under
the new key. Every token is typed into a fresh virtual meter in the configuration our records give the
meter before it is stored; a token that meter would refuse is never stored or sent. (Not the stored
virtual meter: that one is what the customer has typed so far, and a customer who has not yet typed
an earlier key change must still be able to buy.)
"""

import logging
import os
import secrets
import time
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from vending import phones
from vending.exceptions import InvalidTransition, PermissionDenied, StsError
from vending.models import Meter, Purchase, Token
from vending.services.audit import audit_record
from vending.services.transitions import transition
from vending.services.virtual_meters import meter_config, pending_meter_config
from vending.states import PurchaseState
from vending.sts import StsError as EngineError
from vending.sts import VirtualMeter, credit_token, derive_decoder_key, key_change_tokens, next_tid, units_to_kwh

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
    meter = (
        Meter.objects.select_for_update(of=("self",))
        .select_related("supply_group", "pending_supply_group")
        .get(pk=purchase.meter_id)
    )
    purchase.meter = meter  # the token SMS shows the DRN: no second read of the meter
    _pause_for_tests()
    units = int(purchase.quote["units"])
    try:
        tokens = _issue_locked(purchase=purchase, meter=meter, units=units, now=now)
    except EngineError as exc:
        raise StsError(f"the STS engine refused: {exc}") from exc
    transition(
        purchase,
        PurchaseState.VENDED,
        reason="token issued",
        locked=True,
        data={"tid": tokens[-1].tid, "units": str(tokens[-1].units), "key_change_tokens": len(tokens) - 1},
    )
    return tokens


def _ordered(tokens: list[Token]) -> list[Token]:
    keys = sorted((t for t in tokens if t.kind == Token.Kind.KEY_CHANGE), key=lambda t: t.sequence)
    return keys + [t for t in tokens if t.kind != Token.Kind.KEY_CHANGE]


def _issue_locked(*, purchase: Purchase, meter: Meter, units: int, now: datetime) -> list[Token]:
    current = meter_config(meter=meter)
    checker = VirtualMeter(current)
    issued: list[Token] = []
    config = current
    if meter.has_pending_key_change:
        config = pending_meter_config(meter=meter)
        rollover = config.base_date != current.base_date
        kcts = key_change_tokens(
            current,
            config,
            ro=rollover,
            decoder_key=derive_decoder_key(current),
            new_decoder_key=derive_decoder_key(config),
        )
        for sequence, kct in enumerate(kcts):
            _check(checker, kct.digits, expect_units=None)
            issued.append(
                Token(
                    purchase=purchase,
                    meter=meter,
                    kind=Token.Kind.KEY_CHANGE,
                    token_class=kct.token_class,
                    subclass=kct.subclass,
                    sequence=sequence,
                    digits=kct.digits,
                    reason="pending key change",
                    created_at=now,
                )
            )
        before = {"sgc": current.sgc, "krn": current.krn, "ti": current.ti, "base_date": current.base_date}
        meter.supply_group = meter.pending_supply_group or meter.supply_group
        meter.key_revision, meter.tariff_index, meter.base_date = config.krn, config.ti, config.base_date
        meter.pending_supply_group = None
        meter.pending_tariff_index = meter.pending_key_revision = meter.pending_base_date = None
        if rollover:
            meter.last_tid = None  # a new base date counts minutes afresh; the meter cleared its TID memory
        audit_record(
            action="meter.key_changed",
            obj=meter,
            purchase=purchase,
            before=before,
            after={"sgc": config.sgc, "krn": config.krn, "ti": config.ti, "base_date": config.base_date},
        )
    tid = next_tid(now, config.base_date, meter.last_tid)
    token = credit_token(
        config, units=units, tid=tid, rnd=secrets.randbelow(16), decoder_key=derive_decoder_key(config)
    )
    _check(checker, token.digits, expect_units=units)
    meter.last_tid = tid
    # A plain vend changes only the TID memory; a key change moved the meter's key fields as well.
    meter.save(update_fields=None if issued else ["last_tid", "updated_at"])
    issued.append(
        Token(
            purchase=purchase,
            meter=meter,
            kind=Token.Kind.CREDIT,
            token_class=token.token_class,
            subclass=token.subclass,
            sequence=len(issued),
            tid=tid,
            units=units_to_kwh(units),
            digits=token.digits,
            created_at=now,
        )
    )
    for token_row in issued:
        token_row.save()
    return issued


def _check(checker, digits: str, *, expect_units: int | None) -> None:
    """Type the token into the checking virtual meter; refuse anything the meter would not accept."""
    result = checker.enter(digits)
    if not result.accepted or (expect_units is not None and result.units_added != expect_units):
        # The display code says why; the digits never reach the log.
        raise StsError(f"the virtual meter refused the new token: {result.display.value}")


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
