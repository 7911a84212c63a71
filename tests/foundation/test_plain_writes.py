"""The plain INSERT and UPDATE write what Model.save writes, with save()'s errors."""

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError

from tests.factories import make_meter, make_payment, make_purchase
from vending.models import Meter, ProviderCallback, Purchase, SmsMessage, Token
from vending.services.plain_writes import columns_update, row_insert, rows_update

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 15, 9, 0, tzinfo=UTC)


def _token(purchase: Purchase, **fields) -> Token:
    fields.setdefault("meter", purchase.meter)
    return Token(purchase=purchase, kind=Token.Kind.CREDIT, token_class=0, subclass=0, **fields)


def _stored(row) -> dict:
    return {k: v for k, v in type(row).objects.filter(pk=row.pk).values()[0].items() if k != "id"}


def test_an_insert_stores_the_row_save_stores_and_sets_its_id():
    first = make_purchase()
    second = make_purchase(first.meter)
    by_save = _token(first, tid=1, units="5.0", digits="1" * 20, created_at=NOW)
    by_save.save()
    plain = _token(second, tid=2, units="5.0", digits="2" * 20, created_at=NOW)
    row_insert(plain)
    assert plain.pk is not None and plain._state.adding is False
    assert _stored(plain) == _stored(by_save) | {"tid": 2, "digits": "2" * 20, "purchase_id": second.pk}


def test_an_insert_refuses_an_unsaved_related_row_as_save_does():
    purchase = make_purchase()
    with pytest.raises(ValueError, match="unsaved related object 'meter'"):
        row_insert(_token(purchase, meter=Meter(drn="0"), digits="3" * 20))


def test_an_update_writes_the_named_columns_and_refreshes_auto_now():
    meter = make_meter()
    before = Meter.objects.get(pk=meter.pk).updated_at
    meter.last_tid, meter.drn = 12345, "not written"
    columns_update(meter, ["last_tid", "updated_at"])
    stored = Meter.objects.get(pk=meter.pk)
    assert stored.last_tid == 12345 and stored.drn != "not written"
    assert stored.updated_at == meter.updated_at and stored.updated_at > before


def test_an_update_of_a_gone_row_raises_as_save_does():
    meter = make_meter()
    Meter.objects.filter(pk=meter.pk).delete()
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        columns_update(meter, ["last_tid"])


def test_a_filtered_update_changes_only_matching_rows_and_counts_them_as_queryset_update():
    sms = SmsMessage.objects.create(
        direction="out", phone="+254700000001", text="x", provider="console", status="queued"
    )
    where = {"status": "queued", "send_started_at": None}
    assert rows_update(SmsMessage, sms.pk, where, send_started_at=NOW) == 1
    assert rows_update(SmsMessage, sms.pk, where, send_started_at=NOW) == 0  # claimed: IS NULL no longer holds
    assert SmsMessage.objects.filter(pk=sms.pk, status="queued", send_started_at__isnull=True).count() == 0
    assert SmsMessage.objects.get(pk=sms.pk).send_started_at == NOW


def test_an_update_takes_a_related_row_for_its_id():
    payment = make_payment(make_purchase(), reference="R-9")
    callback = ProviderCallback.objects.create(provider="sandbox", kind="stk_callback", headers={}, body="{}")
    assert rows_update(ProviderCallback, callback.pk, processed_at=NOW, payment=payment) == 1
    stored = ProviderCallback.objects.get(pk=callback.pk)
    assert (stored.payment_id, stored.processed_at) == (payment.pk, NOW)
