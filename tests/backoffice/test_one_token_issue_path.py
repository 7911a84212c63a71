"""One token-issue path (issue 14 item 3): the pipeline's vend, staff engineering and free tokens and a key change
made at once all issue through `vending.services.issuing.meter_token_issue`: the meter lock, then every token
typed into the checking virtual meter, one TID sequence per meter, and nothing saved when a check fails."""

import logging
import threading
import time
from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from backoffice.services.key_changes import KeyChangeTarget, meter_key_change
from backoffice.services.meter_tokens import engineering_token_issue, free_token_issue
from tests.factories import make_meter, make_payment, make_purchase, make_supply_group
from vending.exceptions import StsError
from vending.models import AuditEvent, Meter, Token
from vending.services import issuing
from vending.services.transitions import transition
from vending.services.vend import purchase_vend
from vending.states import PurchaseState

pytestmark = pytest.mark.django_db

CALLERS = ("vend", "engineering", "free", "key_change")
ISSUE_EVENTS = ("meter.engineering_token_issued", "meter.free_token_issued", "meter.key_changed")
METER_STATE = ("supply_group_id", "key_revision", "tariff_index", "base_date", "last_tid")


def _issue(caller, meter, now, operator, custodian):
    """Issue `caller`'s tokens for `meter` the way that caller does; the rows it saved, in entry order."""
    if caller == "vend":
        purchase = make_purchase(meter, quote={"units": 50})
        make_payment(purchase)
        transition(purchase, PurchaseState.PAID)
        purchase_vend(purchase_id=purchase.pk, now=now)
        return list(Token.objects.filter(purchase=purchase).order_by("sequence"))
    if caller == "engineering":
        issued = engineering_token_issue(
            actor=operator, meter=meter, kind="clear_tamper", reason="site visit", delivery="show", now=now
        )
        return [issued.token]
    if caller == "free":
        issued = free_token_issue(
            actor=operator, meter=meter, kwh=Decimal("2.5"), reason="goodwill", delivery="show", now=now
        )
        return [issued.token]
    group = meter.supply_group
    new_group = make_supply_group(group.utility, sgc=group.sgc, key_revision=group.key_revision + 1)
    result = meter_key_change(
        actor=custodian,
        meter=Meter.objects.get(pk=meter.pk),
        target=KeyChangeTarget(supply_group=new_group),
        mode="now",
        delivery="show",
        reason="new key",
        now=now,
    )
    return result.tokens


@pytest.mark.parametrize("caller", CALLERS)
def test_each_caller_locks_the_meter_then_checks_every_token_in_the_one_issue_path(
    caller, now, operator, custodian, monkeypatch
):
    meter = make_meter()
    seen = []
    real_lock, real_check = issuing.meter_lock, issuing.token_check

    def lock(*, meter_id):
        seen.append(("lock", meter_id))
        return real_lock(meter_id=meter_id)

    def check(checker, digits, **kwargs):
        seen.append(("check", digits))
        real_check(checker, digits, **kwargs)

    monkeypatch.setattr(issuing, "meter_lock", lock)
    monkeypatch.setattr(issuing, "token_check", check)

    tokens = _issue(caller, meter, now, operator, custodian)

    assert tokens, "the caller issued nothing"
    assert seen == [("lock", meter.pk)] + [("check", t.digits) for t in tokens]


def _unreadable(make):
    """`make` (an engine token maker) with its last token's digits above the 66-bit range: no meter reads it."""

    def wrapped(*args, **kwargs):
        made = make(*args, **kwargs)
        if isinstance(made, list):
            return [*made[:-1], replace(made[-1], digits="9" * 20)]
        return replace(made, digits="9" * 20)

    return wrapped


@pytest.mark.parametrize("caller", CALLERS)
def test_a_token_the_checking_meter_refuses_is_saved_for_no_caller(
    caller, now, operator, custodian, monkeypatch, caplog
):
    meter = make_meter(last_tid=1000)
    before = Meter.objects.values(*METER_STATE).get(pk=meter.pk)
    for name in ("credit_token", "management_token", "key_change_tokens"):
        monkeypatch.setattr(issuing, name, _unreadable(getattr(issuing, name)))

    if caller == "vend":
        with caplog.at_level(logging.ERROR, logger="vending.services.vend"):
            _issue(caller, meter, now, operator, custodian)
        # The pipeline turns the refusal into a refund to do: the purchase is still PAID, with no token.
        assert "vend failed for good: the virtual meter refused the new token: Format" in caplog.text
        assert meter.purchases.get().state == PurchaseState.PAID
    else:
        with pytest.raises(StsError, match="the virtual meter refused the new token: Format"):
            _issue(caller, meter, now, operator, custodian)
        assert not AuditEvent.objects.filter(action__in=ISSUE_EVENTS).exists()
    assert not Token.objects.filter(meter=meter).exists()
    assert Meter.objects.values(*METER_STATE).get(pk=meter.pk) == before


def test_one_tid_sequence_per_meter_whoever_issues(now, operator, custodian):
    """In one minute: a vend, an engineering token, a free token, a key change (no TID), another vend."""
    meter = make_meter()
    tids = []
    for caller in ("vend", "engineering", "free", "key_change", "vend"):
        tokens = _issue(caller, meter, now, operator, custodian)
        tids += [t.tid for t in tokens if t.tid is not None]
        assert all(t.tid is None for t in tokens if t.kind == Token.Kind.KEY_CHANGE)
    assert tids == [tids[0] + n for n in range(4)]
    meter.refresh_from_db()
    assert meter.last_tid == tids[-1] and meter.key_revision == 2
    # The last vend came after the key change, under the new key; its purchase carries no key change.
    assert Token.objects.filter(meter=meter, kind=Token.Kind.KEY_CHANGE, purchase__isnull=False).count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the row lock is PostgreSQL's (SQLite locks the file)")
def test_a_second_issue_for_the_meter_waits_for_the_first_and_takes_the_next_tid(now, operator):
    meter = make_meter()
    holding = threading.Event()
    finished = []

    def first():  # another worker: issues, then keeps its transaction (and the meter lock) open a moment
        try:
            with transaction.atomic():
                issued = issuing.meter_token_issue(
                    meter_id=meter.pk, order=issuing.TokenOrder(token=issuing.Management(subclass=5, value=0)), now=now
                )
                holding.set()
                time.sleep(0.5)
                finished.append(("first", issued.tokens[0].tid))
        finally:
            connections.close_all()

    worker = threading.Thread(target=first)
    worker.start()
    assert holding.wait(10)
    second = free_token_issue(
        actor=operator, meter=meter, kwh=Decimal("1"), reason="goodwill", delivery="show", now=now
    )
    finished.append(("second", second.token.tid))
    worker.join()
    [(_, tid), _] = finished
    assert finished == [("first", tid), ("second", tid + 1)]
