"""A compiled read runs the ORM's own statement and returns the rows the ORM returns."""

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from tests.factories import make_meter, make_payment, make_purchase, make_supply_group
from vending.models import Meter, Payment
from vending.services.compiled_reads import CompiledRead

pytestmark = pytest.mark.django_db


def _payment_read() -> CompiledRead[Payment]:
    return CompiledRead(
        Payment, lambda pk: Payment.objects.select_for_update().select_related("purchase").filter(pk=pk)
    )


def _fields(obj) -> dict:
    return {k: v for k, v in obj.__dict__.items() if k != "_state"}


def test_the_rows_and_their_select_related_rows_are_the_orms():
    payment = make_payment(make_purchase(), reference="R-1")
    read = _payment_read()
    with transaction.atomic():
        expected = Payment.objects.select_for_update().select_related("purchase").get(pk=payment.pk)
        for _ in range(2):  # the first call compiles, the second runs the kept statement
            with CaptureQueriesContext(connection) as queries:
                got = read.get(payment.pk)
            assert len(queries) == 1  # the purchase came with the payment
            assert _fields(got) == _fields(expected)
            assert _fields(got.purchase) == _fields(expected.purchase)
            assert got.purchase.payment is got  # the one-to-one's reverse side cached, as the ORM does
            assert got._state.adding is False and got._state.db == "default"


def test_a_null_relation_is_cached_as_none_and_a_set_one_as_its_row():
    group = make_supply_group()
    bare, pending = make_meter(), make_meter()
    Meter.objects.filter(pk=pending.pk).update(pending_supply_group=group)
    read = CompiledRead(
        Meter, lambda pk: Meter.objects.select_related("supply_group", "pending_supply_group").filter(pk=pk)
    )
    with CaptureQueriesContext(connection) as queries:
        got_bare, got_pending = read.get(bare.pk), read.get(pending.pk)
        assert got_bare.pending_supply_group is None
        assert got_pending.pending_supply_group == group
        supply_group = got_pending.supply_group
    assert len(queries) == 2  # the groups came with the meters
    assert supply_group == Meter.objects.get(pk=pending.pk).supply_group


def test_a_missing_row_raises_does_not_exist_and_none_is_refused():
    read = _payment_read()
    with transaction.atomic():
        with pytest.raises(Payment.DoesNotExist):
            read.get(987654)
        with pytest.raises(ValueError):
            read.get(None)


def test_the_parameters_of_the_compiled_statement_are_checked():
    read = CompiledRead(Payment, lambda pk: Payment.objects.filter(pk=pk, provider="sandbox"))
    with pytest.raises(ValueError):
        read.rows(1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the row lock is Postgres's")
def test_the_locked_read_is_the_orms_statement_and_needs_a_transaction():
    payment = make_payment(make_purchase(), reference="R-2")
    read = _payment_read()
    with transaction.atomic():
        with CaptureQueriesContext(connection) as orm:
            list(Payment.objects.select_for_update().select_related("purchase").filter(pk=payment.pk))
        with CaptureQueriesContext(connection) as compiled:
            read.get(payment.pk)
            read.get(payment.pk)
    assert orm[0]["sql"].endswith("FOR UPDATE")
    assert compiled[0]["sql"] == compiled[1]["sql"] == orm[0]["sql"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the row lock is Postgres's")
def test_a_locked_read_outside_a_transaction_is_refused_as_the_orm_refuses_it():
    payment = make_payment(make_purchase(), reference="R-3")
    read = _payment_read()
    with transaction.atomic():
        read.get(payment.pk)  # compiled
    with pytest.raises(TransactionManagementError):
        read.get(payment.pk)
    with pytest.raises(TransactionManagementError):
        Payment.objects.select_for_update().get(pk=payment.pk)
