"""Adding a wallet is one entry in vending/wallets.py (plus its provider): the USSD menu, the SMS channel, the
admin and the partner API all read the registry, so a wallet that exists only in this test reaches every one.

"Test Pay" takes KES through the sandbox provider; nothing else in koronto names it.
"""

from dataclasses import replace

import pytest
from django.urls import reverse

from backoffice.roles import VENDING_OPERATOR
from tests.backoffice.conftest import PASSWORD, make_staff
from tests.ussd.screens import NAV, con, end
from ussd.sms_commands import sms_command_reply
from ussd.sms_parser import Command, Field, ParseError, Reason, parse
from vending.api.serializers import PaymentRequest
from vending.models import Purchase
from vending.wallets import WalletSpec, same_in_every_language, wallet_for_network, wallet_registered, wallet_spec

TEST_PAY = WalletSpec(
    code="testpay",
    name="Test Pay",
    labels={**same_in_every_language("TestPay"), "sw": "TestPesa"},
    provider="sandbox",
    currencies=frozenset({"KES"}),
    sms_keywords=("TESTPAY", "TPAY"),
)


@pytest.fixture
def test_pay():
    with wallet_registered(TEST_PAY) as spec:
        yield spec
    assert wallet_spec(TEST_PAY.code) is None  # gone again after the test


def test_a_wallet_only_this_test_registers_reaches_ussd_sms_admin_and_api(
    test_pay, phone, world, clock, client, django_capture_on_commit_callbacks
):
    # USSD: KES had one wallet (M-Pesa, no menu); now the buyer chooses, the phone's own network's first.
    phone.dial()
    phone.send("1")
    phone.send("1")
    assert phone.send("500") == con("Pay KES 500 with:", "1. M-Pesa", "2. TestPay", NAV)
    assert "Pay with TestPay" in phone.send("2")
    with django_capture_on_commit_callbacks(execute=False):
        assert phone.send("1") == end(
            "Approve the TestPay prompt for KES 500 on your phone. Your token will come by SMS."
        )
    by_ussd = Purchase.objects.select_related("payment").get(channel="ussd")
    assert (by_ussd.wallet, by_ussd.payment.provider) == ("testpay", "sandbox")

    # SMS: the parser knows its keywords, and a BUY naming it starts a purchase on it.
    parsed = parse("BUY 04123456784 200 TPAY")
    assert isinstance(parsed, Command) and parsed.wallet == "testpay"
    assert parse("buy 04123456784 200 test pay").wallet == "testpay"  # two words count as one keyword
    with django_capture_on_commit_callbacks(execute=False):
        reply = sms_command_reply(
            text="BUY 04123456784 200 TESTPAY",
            phone="+254711000111",
            message_id="ATXid_testpay",
            now=clock.now,
            customer=world["wanjiku"],
        )
    assert reply.purchase is not None and reply.purchase.wallet == "testpay" and reply.outcome == "buy"
    with django_capture_on_commit_callbacks(execute=False):
        by_mpesa = sms_command_reply(
            text="BUY 04123456792 100 MPESA",
            phone="+254711000111",
            message_id="ATXid_mpesa",
            now=clock.now,
            customer=world["wanjiku"],
        ).purchase
    assert by_mpesa is not None and by_mpesa.wallet == "mpesa"

    # Admin: the purchases' wallet filter offers it and filters by it (an M-Pesa purchase stays out).
    operator = make_staff(VENDING_OPERATOR)
    client.login(username=operator.username, password=PASSWORD)
    changelist = reverse("admin:vending_purchase_changelist")
    listing = client.get(changelist).content.decode()
    assert '<a href="?wallet__exact=testpay">Test Pay</a>' in listing
    assert '<td class="field-wallet">Test Pay</td>' in listing  # the list column names it too
    filtered = client.get(changelist, {"wallet__exact": "testpay"}).content.decode()
    assert by_ussd.reference in filtered and reply.purchase.reference in filtered
    assert by_mpesa.reference not in filtered and by_mpesa.reference in listing

    # Partner API: the payment's wallet accepts it.
    request = PaymentRequest(data={"method": "mobile_money", "wallet": "testpay", "phone": "+254711000111"})
    assert request.is_valid(), request.errors


def test_without_the_registration_no_channel_knows_the_wallet(phone, world):
    unknown = parse("BUY 04123456784 200 TESTPAY")
    assert isinstance(unknown, ParseError) and (unknown.field, unknown.reason) == (Field.WALLET, Reason.UNKNOWN)
    request = PaymentRequest(data={"method": "mobile_money", "wallet": "testpay", "phone": "+254711000111"})
    assert not request.is_valid() and "wallet" in request.errors
    phone.dial()
    phone.send("1")
    phone.send("1")
    assert "Pay with M-Pesa" in phone.send("500")  # KES alone: no wallet menu at all


def test_a_registered_wallet_speaks_its_own_name_per_language():
    assert TEST_PAY.label("sw") == "TestPesa" and TEST_PAY.label("so") == "TestPay"
    assert TEST_PAY.keyword == "TESTPAY"


@pytest.mark.parametrize(
    "clash",
    [
        replace(TEST_PAY, code="mpesa"),  # a code taken
        replace(TEST_PAY, code="testpaywallet"),  # longer than Purchase.wallet holds
        replace(TEST_PAY, sms_keywords=("TESTPAY", "DAHAB")),  # e-Dahab's word: an SMS would be ambiguous
        replace(TEST_PAY, sms_keywords=("test pay",)),  # the parser compares capital letters only
        replace(TEST_PAY, networks=("safaricom",)),  # M-Pesa's operator: which wallet would it suggest?
        replace(TEST_PAY, networks=("Airtel",)),  # operators are named as routes name them: lower case
    ],
)
def test_a_wallet_that_clashes_with_the_registry_is_refused_and_nothing_changes(clash):
    with pytest.raises(ValueError), wallet_registered(clash):
        pass
    assert wallet_spec("testpay") is None and parse("BUY 04123456784 200 DAHAB").wallet == "edahab"
    assert wallet_for_network("safaricom") == "mpesa"
