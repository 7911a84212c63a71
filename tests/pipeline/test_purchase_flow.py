"""A purchase from creation to a token the virtual meter accepts, on the sandbox and console SMS."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import current_base_date, make_meter
from tests.pipeline.helpers import buy, texts_to
from vending.exceptions import AmountOutOfRange, MeterBlocked, PermissionDenied, UnsupportedWallet
from vending.models import Meter, Payment, Purchase, SmsMessage, Token
from vending.services.purchases import purchase_create
from vending.services.tokens import token_issue, token_resend
from vending.services.virtual_meters import meter_enter
from vending.states import PaymentState, PurchaseState, SmsState
from vending.sts.tid import base_date_before

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager"), pytest.mark.dated]


def test_sandbox_purchase_ends_with_a_token_the_meter_accepts(kenya_meter, django_capture_on_commit_callbacks):
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter, amount="100")

    assert purchase.state == PurchaseState.DELIVERED
    assert purchase.payment.state == PaymentState.CONFIRMED
    assert purchase.payment.provider == "sandbox"
    token = purchase.tokens.get(kind=Token.Kind.CREDIT)
    assert token.units == Decimal("5.0")  # KES 100 at KES 20/kWh
    [sms] = texts_to("+254711000111")
    assert token.grouped in sms and f"Ref {purchase.reference}" in sms and "5.0 kWh" in sms
    assert len(sms) <= 160
    result = meter_enter(meter=kenya_meter, token=token.digits)
    assert result.message == "Accept: 5.0 kWh, credit 5.0 kWh"
    assert meter_enter(meter=kenya_meter, token=token.digits).display == "Used"


def test_blocked_meter_is_refused_with_a_reason(kenya_meter):
    Meter.objects.filter(pk=kenya_meter.pk).update(status=Meter.Status.BLOCKED)
    kenya_meter.refresh_from_db()
    with pytest.raises(MeterBlocked, match="blocked"):
        purchase_create(
            channel="ussd",
            meter=kenya_meter,
            payer_phone="+254711000111",
            wallet="mpesa",
            amount=Decimal("100"),
            idempotency_key="blocked-1",
        )
    assert not Purchase.objects.exists()


def test_amount_out_of_range_is_refused_with_a_reason(kenya_meter):
    with pytest.raises(AmountOutOfRange) as caught:
        purchase_create(
            channel="ussd",
            meter=kenya_meter,
            payer_phone="+254711000111",
            wallet="mpesa",
            amount=Decimal("5"),
            idempotency_key="small-1",
        )
    assert "10" in str(caught.value)
    with pytest.raises(AmountOutOfRange):
        purchase_create(
            channel="ussd",
            meter=kenya_meter,
            payer_phone="+254711000111",
            wallet="mpesa",
            amount=Decimal("100.50"),
            idempotency_key="cents-1",
        )


def test_wallet_that_cannot_pay_the_meter_currency_is_refused(kenya_meter):
    with pytest.raises(UnsupportedWallet):
        purchase_create(
            channel="ussd",
            meter=kenya_meter,
            payer_phone="+252611000111",
            wallet="evcplus",
            amount=Decimal("100"),
            idempotency_key="wallet-1",
        )


def test_same_idempotency_key_returns_first_purchase(kenya_meter, django_capture_on_commit_callbacks):
    first = buy(django_capture_on_commit_callbacks, kenya_meter, key="ussd:ATUid_1:confirm")
    again = buy(django_capture_on_commit_callbacks, kenya_meter, key="ussd:ATUid_1:confirm", amount="200")

    assert again.pk == first.pk and again.amount == Decimal("100")
    assert Purchase.objects.count() == 1 and Payment.objects.count() == 1
    assert Token.objects.filter(kind=Token.Kind.CREDIT).count() == 1
    assert len(texts_to("+254711000111")) == 1


def test_declined_payment_tells_the_customer_no_money_was_taken(kenya_meter, django_capture_on_commit_callbacks):
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter, phone="+254700000001")  # sandbox: cancelled

    assert purchase.state == PurchaseState.PAYMENT_FAILED and purchase.failure_reason == "cancelled"
    assert not purchase.tokens.exists()
    [sms] = texts_to("+254700000001")
    assert sms.startswith("Payment cancelled. No money was taken.") and purchase.reference in sms


def test_second_vend_returns_the_same_token(kenya_meter, django_capture_on_commit_callbacks):
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter)
    again = token_issue(purchase=purchase)
    assert [t.pk for t in again] == [purchase.tokens.get().pk]


def test_two_vends_in_one_minute_take_successive_tids(kenya_meter):
    from tests.factories import make_payment, make_purchase
    from vending.services.transitions import transition

    now = timezone.now()  # the wall clock (dated runs move it): the meter's base date is today's
    tids = []
    for _ in range(3):
        purchase = make_purchase(kenya_meter, quote={"units": 50})
        make_payment(purchase)
        transition(purchase, PurchaseState.PAID)
        tids.append(token_issue(purchase=purchase, now=now)[-1].tid)
    assert tids[1] == tids[0] + 1 and tids[2] == tids[0] + 2
    kenya_meter.refresh_from_db()
    assert kenya_meter.last_tid == tids[2]
    later = make_purchase(kenya_meter, quote={"units": 50})
    transition(later, PurchaseState.PAID)
    assert token_issue(purchase=later, now=now + timedelta(hours=1))[-1].tid == tids[0] + 60


def _meter_with_pending_rollover(sgc: str) -> Meter:
    """A meter on the base date before today's whose next vend must carry the key change to KRN 2 and
    today's base date (1993 → 2014; in a dated run after November 2045, 2014 → 2035)."""
    from tests.factories import make_flat_tariff, make_supply_group, make_utility

    utility = make_utility()
    old = make_supply_group(utility, base_date=base_date_before(current_base_date()), sgc=sgc, key_revision=1)
    new = make_supply_group(utility, base_date=current_base_date(), sgc=sgc, key_revision=2)
    meter = make_meter(supply_group=old, tariff=make_flat_tariff(utility))
    Meter.objects.filter(pk=meter.pk).update(
        pending_supply_group=new, pending_key_revision=2, pending_base_date=current_base_date()
    )
    meter.refresh_from_db()
    return meter


def test_pending_key_change_tokens_come_first_in_the_same_sms(db, django_capture_on_commit_callbacks):
    meter = _meter_with_pending_rollover("600675")

    purchase = buy(django_capture_on_commit_callbacks, meter, amount="500")

    kcts = list(purchase.tokens.filter(kind=Token.Kind.KEY_CHANGE).order_by("sequence"))
    credit = purchase.tokens.get(kind=Token.Kind.CREDIT)
    assert [t.subclass for t in kcts] == [3, 4]
    parts = texts_to("+254711000111")
    assert all(len(p) <= 160 for p in parts)
    text = "\n".join(parts)
    assert (
        text.index("key tokens first")
        < text.index(kcts[0].grouped)
        < text.index(kcts[1].grouped)
        < text.index(credit.grouped)
    )
    meter.refresh_from_db()
    assert not meter.has_pending_key_change and meter.base_date == current_base_date() and meter.key_revision == 2
    # The customer types them in order: the meter takes the new key, then the credit.
    assert meter_enter(meter=meter, token=kcts[0].digits).display == "1stKCT"
    assert meter_enter(meter=meter, token=kcts[1].digits).display == "2ndKCT"
    assert meter_enter(meter=meter, token=credit.digits).message == "Accept: 25.0 kWh, credit 25.0 kWh"


def test_token_resend_goes_only_to_the_buying_phone(kenya_meter, customer, django_capture_on_commit_callbacks):
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter, customer=customer)
    with pytest.raises(PermissionDenied):
        token_resend(purchase=purchase, phone="+254722000222")
    with django_capture_on_commit_callbacks(execute=True):
        token_resend(purchase=purchase, phone="0711000111")
    sent = texts_to("+254711000111")
    assert len(sent) == 2 and sent[0] == sent[1]
    assert SmsMessage.objects.filter(status=SmsState.DELIVERED).count() == 2


def test_somali_purchase_on_evc_plus_sandbox(somali_meter, django_capture_on_commit_callbacks):
    purchase = buy(
        django_capture_on_commit_callbacks,
        somali_meter,
        phone="+252611000111",
        wallet="evcplus",
        amount="5",
        language="so",
    )
    assert purchase.state == PurchaseState.DELIVERED
    [sms] = texts_to("+252611000111")
    assert sms.startswith("Token ") and "Tix" in sms and "10.0 kWh" in sms
    assert meter_enter(meter=somali_meter, token=purchase.tokens.get().digits).accepted


def test_second_purchase_before_the_key_change_is_typed_still_vends(db, django_capture_on_commit_callbacks):
    """The check before storing a token uses the configuration on record, not what the customer has typed."""
    meter = _meter_with_pending_rollover("600676")

    first = buy(django_capture_on_commit_callbacks, meter, amount="500")
    second = buy(django_capture_on_commit_callbacks, meter, amount="200")
    assert first.state == second.state == PurchaseState.DELIVERED

    kcts = list(first.tokens.filter(kind=Token.Kind.KEY_CHANGE).order_by("sequence"))
    assert not second.tokens.filter(kind=Token.Kind.KEY_CHANGE).exists()
    # Typed late and in order, every token is still taken by the meter.
    for kct in kcts:
        assert meter_enter(meter=meter, token=kct.digits).accepted
    assert meter_enter(meter=meter, token=first.tokens.get(kind=Token.Kind.CREDIT).digits).display == "Accept"
    result = meter_enter(meter=meter, token=second.tokens.get(kind=Token.Kind.CREDIT).digits)
    assert result.display == "Accept" and result.message.endswith("credit 35.0 kWh")


def test_repeat_after_the_meter_was_blocked_still_returns_the_first_purchase(kenya_meter):
    first = purchase_create(
        channel="sms",
        meter=kenya_meter,
        payer_phone="+254711000111",
        wallet="mpesa",
        amount=Decimal("100"),
        idempotency_key="sms:AT-1",
    )
    Meter.objects.filter(pk=kenya_meter.pk).update(status=Meter.Status.BLOCKED)
    kenya_meter.refresh_from_db()
    again = purchase_create(
        channel="sms",
        meter=kenya_meter,
        payer_phone="+254711000111",
        wallet="mpesa",
        amount=Decimal("100"),
        idempotency_key="sms:AT-1",
    )
    assert again.pk == first.pk and Purchase.objects.count() == 1


def _shown(meter, *, amount="100", quoted_at, units_shown=7):
    """A quote as a customer saw it, with units the tariff would not give today (so reuse is visible)."""
    from vending.selectors.quotes import ShownQuote, purchase_quote

    seen = purchase_quote(meter=meter, amount=Decimal(amount), now=quoted_at)
    return ShownQuote(
        drn=meter.drn, quote=replace(seen, kwh=Decimal(units_shown) / 10, units=units_shown), quoted_at=quoted_at
    )


def _create(meter, shown, *, now, amount="100"):
    return purchase_create(
        channel="ussd",
        meter=meter,
        payer_phone="+254711000111",
        wallet="mpesa",
        amount=Decimal(amount),
        idempotency_key=f"ussd:{now.timestamp()}",
        now=now,
        shown_quote=shown,
    )


def test_the_quote_the_customer_confirmed_is_the_one_bought(kenya_meter):
    quoted_at = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)
    purchase = _create(kenya_meter, _shown(kenya_meter, quoted_at=quoted_at), now=quoted_at + timedelta(seconds=40))
    assert purchase.quote["units"] == 7


@pytest.mark.parametrize("why", ["too old", "last month", "another amount", "another meter"])
def test_a_quote_that_no_longer_fits_is_quoted_afresh(kenya_meter, why):
    quoted_at = datetime(2026, 3, 31, 20, 50, tzinfo=UTC)  # 23:50 in Nairobi: the month ends at 21:00 UTC
    now = {"too old": quoted_at + timedelta(minutes=11), "last month": quoted_at + timedelta(minutes=10)}.get(
        why, quoted_at + timedelta(seconds=30)
    )
    shown = _shown(
        make_meter(tariff=kenya_meter.tariff) if why == "another meter" else kenya_meter,
        amount="200" if why == "another amount" else "100",
        quoted_at=quoted_at,
    )
    purchase = _create(kenya_meter, shown, now=now)
    assert purchase.quote["units"] == 50  # KES 100 at KES 20/kWh, as quoted now
