"""Support and vending-operator actions: resend, reprint, refund refusal, engineering and free tokens."""

from decimal import Decimal

import pytest

from backoffice.services.meter_tokens import engineering_token_issue, free_token_issue
from backoffice.services.support import staff_purchase_refund, staff_token_reprint, staff_token_resend
from tests.factories import make_customer, make_meter, make_purchase
from vending import i18n
from vending.exceptions import PermissionDenied
from vending.models import AuditEvent, CustomerMeter, SmsMessage, Token
from vending.services.virtual_meters import meter_config
from vending.sts import decode_token

pytestmark = pytest.mark.django_db


def _vended_purchase():
    purchase = make_purchase(state="vended", quote={"units": 250})
    Token.objects.create(
        purchase=purchase,
        meter=purchase.meter,
        kind=Token.Kind.CREDIT,
        token_class=0,
        subclass=0,
        tid=1000,
        units=Decimal("25.0"),
        digits="12345678901234567890",
    )
    return purchase


def test_support_resends_the_token_sms_to_the_buyer_and_it_is_audited(support):
    purchase = _vended_purchase()
    staff_token_resend(actor=support, purchase=purchase, reason="customer called")
    sms = SmsMessage.objects.get(purchase=purchase)
    assert sms.phone == purchase.payer_phone
    assert "1234 5678 9012 3456 7890" in sms.text
    event = AuditEvent.objects.get(action="purchase.token_resent_by_staff")
    assert (event.actor, event.reason, event.purchase) == (support, "customer called", purchase)


def test_support_cannot_refund_and_nothing_is_written(support):
    purchase = _vended_purchase()
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        staff_purchase_refund(actor=support, purchase=purchase, reason="customer wants money back")
    assert AuditEvent.objects.count() == before


def test_refund_needs_a_reason(operator):
    with pytest.raises(PermissionDenied, match="reason"):
        staff_purchase_refund(actor=operator, purchase=_vended_purchase(), reason="  ")


def test_finance_cannot_resend(finance):
    with pytest.raises(PermissionDenied):
        staff_token_resend(actor=finance, purchase=_vended_purchase())


def test_reprint_returns_the_tokens_and_is_audited(support):
    purchase = _vended_purchase()
    tokens = staff_token_reprint(actor=support, purchase=purchase, reason="read out")
    assert [t.digits for t in tokens] == ["12345678901234567890"]
    assert AuditEvent.objects.filter(action="purchase.tokens_reprinted", actor=support).count() == 1


@pytest.mark.parametrize(
    ("kind", "subclass", "field", "value"),
    [
        ("clear_tamper", 5, "pad", 0),
        ("clear_credit", 1, "register", 0),
        ("set_power_limit", 0, "watts", 5000),
    ],
)
def test_engineering_token_decodes_under_the_meter_key_and_goes_to_the_customer(
    operator, now, kind, subclass, field, value
):
    meter = make_meter()
    customer = make_customer(language="sw")
    CustomerMeter.objects.create(customer=customer, meter=meter)
    issued = engineering_token_issue(
        actor=operator, meter=meter, kind=kind, watts=5000, reason="site visit", delivery="sms", now=now
    )
    decoded = decode_token(issued.token.digits, meter_config(meter=meter))
    assert (decoded.token_class, decoded.subclass, decoded.tid) == (2, subclass, issued.token.tid)
    assert decoded.fields[field] == value
    meter.refresh_from_db()
    assert meter.last_tid == issued.token.tid
    sms = SmsMessage.objects.get(phone=customer.phone)
    assert issued.token.grouped in sms.text and sms.text.startswith("Mita")
    event = AuditEvent.objects.get(action="meter.engineering_token_issued")
    assert event.data["kind"] == kind and event.reason == "site visit" and event.actor == operator
    assert issued.token.digits not in str(event.data)


def test_two_tokens_in_one_minute_take_successive_tids(operator, now):
    meter = make_meter()
    first = engineering_token_issue(
        actor=operator, meter=meter, kind="clear_tamper", reason="visit", delivery="show", now=now
    )
    second = free_token_issue(
        actor=operator, meter=meter, kwh=Decimal("2.5"), reason="goodwill", delivery="show", now=now
    )
    assert second.token.tid == first.token.tid + 1
    decoded = decode_token(second.token.digits, meter_config(meter=meter))
    assert decoded.units == 25 and second.token.units == Decimal("2.5")


def test_support_cannot_issue_engineering_or_free_tokens(support, now):
    meter = make_meter()
    with pytest.raises(PermissionDenied):
        engineering_token_issue(actor=support, meter=meter, kind="clear_tamper", reason="x y z", delivery="show")
    with pytest.raises(PermissionDenied):
        free_token_issue(actor=support, meter=meter, kwh=Decimal("1"), reason="x y z", delivery="show")
    assert not Token.objects.filter(meter=meter).exists()


def test_sms_delivery_without_customers_is_refused(operator, now):
    from backoffice.services.delivery import NoCustomerToNotify

    with pytest.raises(NoCustomerToNotify):
        engineering_token_issue(
            actor=operator, meter=make_meter(), kind="clear_tamper", reason="visit", delivery="sms", now=now
        )


def test_staff_messages_fit_one_sms_in_every_language():
    import backoffice.messages  # noqa: F401
    from vending.sms import gsm7

    grouped = "1234 5678 9012 3456 7890"
    for lang in i18n.LANGUAGES:
        texts = [
            i18n.render("staff.engineering_token", lang, drn="0100000000016", token=grouped),
            i18n.render("staff.free_token", lang, drn="0100000000016", token=grouped, kwh="1000.0"),
            i18n.render("staff.key_change", lang, drn="0100000000016", n=1, total=2, first=grouped, second=grouped),
        ]
        for text in texts:
            assert gsm7.septets(text) <= 160, (lang, text)
            assert gsm7.transliterate(text) == text, (lang, text)
