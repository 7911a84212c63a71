"""The data model's rules: DRN check digits, unique (meter, TID), one credit token per purchase,
illegal state transitions refused, an append-only audit trail."""

from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.factories import make_meter, make_payment, make_purchase
from vending.exceptions import BadMeterNumber, InvalidTransition
from vending.meter_numbers import clean_drn, derive_pan
from vending.models import AuditEvent, Meter, Payment, Purchase, SupplyGroup, Token
from vending.services.plain_writes import row_insert
from vending.services.transitions import transition
from vending.states import PaymentState, PurchaseState

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("drn", ["47500150231", "04123456784", "0100000000016"])
def test_valid_drns_are_accepted(drn):
    assert clean_drn(drn) == drn


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("47500150232", "last digit"),  # check digit off by one
        ("4750015023", "11 or 13"),
        ("475001502311", "11 or 13"),
        ("4750O150231", "digits only"),
        ("0100000000017", "last digit"),
    ],
)
def test_bad_drns_are_refused_with_the_reason(raw, problem):
    with pytest.raises(BadMeterNumber, match=problem):
        clean_drn(raw)


def test_drn_separators_typed_by_customers_are_ignored():
    assert clean_drn("4750-0150 231") == "47500150231"


def test_meter_model_validates_its_drn():
    meter = make_meter()
    meter.drn = "47500150232"
    with pytest.raises(ValidationError) as excinfo:
        meter.full_clean()
    assert "drn" in excinfo.value.message_dict


def test_pan_is_derived_from_the_drn():
    assert derive_pan("00000000000") == "600727000000000009"  # docs/STS.md §10
    assert derive_pan("0100000000008") == "000001000000000082"
    meter = make_meter(drn="47500150231")
    assert meter.pan.startswith("60072747500150231") and len(meter.pan) == 18


def _token(meter: Meter, purchase: Purchase | None, tid: int | None, kind: str = "credit") -> Token:
    return Token.objects.create(
        meter=meter, purchase=purchase, kind=kind, token_class=0, subclass=0, tid=tid, digits="1" * 20
    )


def test_tid_is_unique_per_meter():
    meter = make_meter()
    _token(meter, None, 1000, kind="free")
    with pytest.raises(IntegrityError), transaction.atomic():
        _token(meter, None, 1000, kind="free")


def test_same_tid_on_another_meter_is_fine():
    _token(make_meter(), None, 1000, kind="free")
    _token(make_meter(), None, 1000, kind="free")


def test_key_change_tokens_carry_no_tid_and_do_not_collide():
    meter = make_meter()
    for _ in range(2):
        Token.objects.create(meter=meter, kind="key_change", token_class=2, subclass=3, tid=None, digits="2" * 20)
    assert meter.tokens.count() == 2


def test_one_credit_token_per_purchase():
    purchase = make_purchase()
    _token(purchase.meter, purchase, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        _token(purchase.meter, purchase, 2)


def test_legal_transition_moves_and_audits():
    purchase = make_purchase()
    purchase, changed = transition(purchase, PurchaseState.PAYMENT_PENDING, reason="push sent")
    assert changed and purchase.state == PurchaseState.PAYMENT_PENDING
    event = AuditEvent.objects.filter(purchase=purchase).last()
    assert event.action == "purchase.payment_pending"
    assert event.before == {"state": "created"} and event.after["state"] == "payment_pending"


def test_repeating_a_transition_is_a_quiet_no_op():
    purchase = make_purchase()
    transition(purchase, PurchaseState.PAYMENT_PENDING)
    events = AuditEvent.objects.count()
    purchase, changed = transition(purchase, PurchaseState.PAYMENT_PENDING)
    assert not changed and AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], PurchaseState.VENDED),  # created → vended skips payment
        ([], PurchaseState.DELIVERED),
        ([PurchaseState.PAYMENT_PENDING], PurchaseState.REFUNDED),
        ([PurchaseState.CANCELLED], PurchaseState.PAID),  # a final state stays final
    ],
)
def test_illegal_purchase_transitions_are_refused(path, illegal):
    purchase = make_purchase()
    for step in path:
        purchase, _ = transition(purchase, step)
    with pytest.raises(InvalidTransition):
        transition(purchase, illegal)
    purchase.refresh_from_db()
    assert purchase.state == (path[-1] if path else PurchaseState.CREATED)


def test_illegal_payment_transition_is_refused():
    payment = make_payment(make_purchase())
    transition(payment, PaymentState.PENDING)
    transition(payment, PaymentState.FAILED)
    with pytest.raises(InvalidTransition):
        transition(payment, PaymentState.HELD)


def test_audit_events_are_append_only():
    purchase = make_purchase()
    transition(purchase, PurchaseState.PAYMENT_PENDING)
    event = AuditEvent.objects.last()
    event.reason = "rewritten"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.all().update(reason="x")
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()


@pytest.mark.parametrize(
    ("instant", "base_date"),
    [("2026-12-01 10:00 +03:00", 2014), ("2045-11-24 20:14 +03:00", 2014), ("2045-11-25 10:00 +03:00", 2035)],
)
def test_a_new_supply_group_or_meter_proposes_the_base_date_that_numbers_tokens_that_day(instant, base_date):
    """The admin's add forms start from the model default: after 2045-11-24 20:15 (Nairobi wall clock) a
    proposed base 2014 could take no token, so the default follows the clock."""
    with time_machine.travel(instant, tick=False):
        assert SupplyGroup().base_date == base_date
        assert Meter().base_date == base_date


def _stored(row) -> dict:
    values = {f.attname: getattr(type(row).objects.get(pk=row.pk), f.attname) for f in row._meta.concrete_fields}
    return {k: v for k, v in values.items() if k not in {"id", "reference", "idempotency_key", "updated_at"}}


@pytest.mark.django_db
def test_a_plain_insert_stores_the_row_create_stores():
    meter = make_meter()
    fields = {
        "channel": "ussd",
        "meter": meter,
        "payer_phone": "+254711000111",
        "wallet": "mpesa",
        "amount": Decimal("250.00"),
        "currency": meter.tariff.currency,
        "quote": {"kwh": "12.5"},
        "created_at": timezone.now(),  # else each row takes its own instant
    }
    by_orm = Purchase.objects.create(reference="ORM0000001", idempotency_key="orm", **fields)
    plain = Purchase(reference="SQL0000001", idempotency_key="sql", **fields)
    row_insert(plain)
    assert plain.pk is not None and plain.pk != by_orm.pk and not plain._state.adding
    assert _stored(plain) == _stored(by_orm)
    assert plain.updated_at is not None  # auto_now, as save() sets it
    paid = {"provider": "sandbox", "amount_requested": plain.amount, "created_at": fields["created_at"]}
    payment = Payment(purchase=plain, **paid)
    row_insert(payment)
    by_orm_payment = Payment.objects.create(purchase=by_orm, **paid)
    assert _stored(payment) == _stored(by_orm_payment) | {"purchase_id": plain.pk}


@pytest.mark.django_db
def test_a_plain_insert_raises_the_orms_integrity_error_on_a_repeated_key():
    first = make_purchase()
    again = Purchase(
        reference="SQL0000002",
        idempotency_key=first.idempotency_key,
        channel="ussd",
        meter=first.meter,
        payer_phone=first.payer_phone,
        wallet="mpesa",
        amount=first.amount,
        currency=first.currency,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        row_insert(again)
    assert again.pk is None
    assert Purchase.objects.filter(idempotency_key=first.idempotency_key).count() == 1
