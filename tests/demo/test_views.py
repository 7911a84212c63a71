"""The simulator page and its JSON endpoints: demo mode only, inbox, wallet prompts, virtual meter."""

import json
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from demo import interactive
from tests.demo.conftest import DEMO_DRN, DEMO_PHONE
from vending.models import Meter, ProviderCallback, Purchase, SmsMessage, Token
from vending.services.purchases import purchase_create
from vending.states import PaymentState, PurchaseState, SmsState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_data", "eager")]


def _buy(
    capture, *, phone: str = DEMO_PHONE, drn: str = DEMO_DRN, amount: str = "500", key: str = "k1", language: str = "en"
) -> Purchase:
    with capture(execute=True):
        purchase = purchase_create(
            channel="ussd",
            meter=Meter.objects.get(drn=drn),
            payer_phone=phone,
            wallet="mpesa",
            amount=Decimal(amount),
            idempotency_key=key,
            language=language,
        )
    purchase.refresh_from_db()
    return purchase


def _post(client, url: str, data: dict):
    return client.post(url, data=json.dumps(data), content_type="application/json")


def _approve(client, capture, purchase: Purchase, pin: str = interactive.DEMO_PIN):
    with capture(execute=True):
        response = _post(
            client,
            reverse("demo-wallet-approve", args=[purchase.reference]),
            {"phone": purchase.payer_phone, "pin": pin},
        )
    purchase.refresh_from_db()
    return response


def test_every_simulator_url_is_404_when_demo_mode_is_off(client, settings):
    settings.DEMO_MODE = False
    gets = [
        reverse("demo-simulator"),
        reverse("demo-inbox") + "?phone=%2B254711000111",
        reverse("demo-wallet") + "?phone=%2B254711000111",
        reverse("demo-meter", args=[DEMO_DRN]),
    ]
    posts = [
        reverse("demo-wallet-approve", args=["ABC"]),
        reverse("demo-wallet-decline", args=["ABC"]),
        reverse("demo-meter-token", args=[DEMO_DRN]),
    ]
    assert [client.get(url).status_code for url in gets] == [404] * len(gets)
    assert [_post(client, url, {}).status_code for url in posts] == [404] * len(posts)
    assert not interactive.wallet_is_interactive(phone=DEMO_PHONE)


def test_page_shows_the_chosen_phone_its_meters_and_the_real_webhooks(client):
    response = client.get(reverse("demo-simulator"), {"phone": " 254711000111"})  # "+" sent unescaped

    assert response.status_code == 200
    page = response.content.decode()
    assert "+254711000111" in page and "04123456784" in page and "Home" in page and "Farm" in page
    config = response.context["config"]
    assert config["phone"] == DEMO_PHONE
    assert config["ussdUrl"] == f"/hooks/at/ussd/{settings.WEBHOOK_SECRET}/"
    assert config["smsUrl"] == f"/hooks/at/sms/{settings.WEBHOOK_SECRET}/"
    assert config["serviceCode"] == settings.USSD_SERVICE_CODES[0]
    assert "csrftoken" in response.cookies
    assert "/static/demo/simulator.js" in page and "/static/demo/simulator.css" in page


def test_page_defaults_to_the_first_demo_customer_and_lists_the_others(client):
    response = client.get(reverse("demo-simulator"))

    assert response.context["phone"] == DEMO_PHONE
    assert set(response.context["phones"]) == {"+254711000111", "+254722000222", "+252611000111", "+252631000222"}


def test_inbox_lists_texts_sent_to_the_phone_newest_first(client):
    for text in ("first", "second"):
        SmsMessage.objects.create(direction="out", phone=DEMO_PHONE, text=text, status=SmsState.SENT)
    SmsMessage.objects.create(direction="in", phone=DEMO_PHONE, text="BUY 1", status=SmsState.RECEIVED)
    SmsMessage.objects.create(direction="out", phone="+254722000222", text="not yours", status=SmsState.SENT)

    data = client.get(reverse("demo-inbox"), {"phone": DEMO_PHONE}).json()

    assert [m["text"] for m in data["messages"]] == ["second", "first"]
    assert client.get(reverse("demo-inbox"), {"phone": "nope"}).status_code == 400


def test_without_an_open_page_the_sandbox_approves_by_itself(django_capture_on_commit_callbacks):
    purchase = _buy(django_capture_on_commit_callbacks)

    assert purchase.state == PurchaseState.DELIVERED
    assert interactive.wallet_prompts(phone=DEMO_PHONE) == []


def test_open_page_holds_the_push_as_a_pin_prompt(client, django_capture_on_commit_callbacks):
    client.get(reverse("demo-wallet"), {"phone": DEMO_PHONE})  # the page's first poll

    purchase = _buy(django_capture_on_commit_callbacks)

    assert purchase.state == PurchaseState.PAYMENT_PENDING
    assert purchase.payment.state == PaymentState.PENDING
    assert not ProviderCallback.objects.exists()
    [prompt] = client.get(reverse("demo-wallet"), {"phone": DEMO_PHONE}).json()["prompts"]
    texts = prompt.pop("texts")
    assert prompt == {
        "id": purchase.reference,
        "wallet": "mpesa",
        "wallet_name": "M-PESA",
        "amount": "500.00",
        "currency": "KES",
        "merchant": "Nairobi Demo Power",
        "reference": purchase.reference,
        "pin_length": 4,
        "language": "en",
    }
    assert texts["ask"] == f"M-PESA\nPay KES 500.00 to Nairobi Demo Power?\nRef {purchase.reference}\nEnter PIN:"
    assert client.get(reverse("demo-wallet"), {"phone": "+254722000222"}).json()["prompts"] == []


def test_approving_with_the_pin_runs_the_sandbox_callback_to_a_token_sms(client, django_capture_on_commit_callbacks):
    client.get(reverse("demo-wallet"), {"phone": DEMO_PHONE})
    purchase = _buy(django_capture_on_commit_callbacks)

    response = _approve(client, django_capture_on_commit_callbacks, purchase)

    assert response.json() == {"id": purchase.reference, "answer": "approved"}
    assert purchase.state == PurchaseState.DELIVERED
    assert purchase.payment.state == PaymentState.CONFIRMED and purchase.payment.receipt.startswith("SBX")
    [callback] = ProviderCallback.objects.all()
    assert callback.provider == "sandbox" and callback.processed_at is not None and not callback.flagged
    token = purchase.tokens.get(kind=Token.Kind.CREDIT)
    [sms] = client.get(reverse("demo-inbox"), {"phone": DEMO_PHONE}).json()["messages"]
    assert token.grouped in sms["text"]
    assert client.get(reverse("demo-wallet"), {"phone": DEMO_PHONE}).json()["prompts"] == []
    again = _approve(client, django_capture_on_commit_callbacks, purchase)
    assert again.status_code == 404


def test_a_wrong_pin_declines_the_payment(client, django_capture_on_commit_callbacks):
    client.get(reverse("demo-wallet"), {"phone": DEMO_PHONE})
    purchase = _buy(django_capture_on_commit_callbacks)

    response = _approve(client, django_capture_on_commit_callbacks, purchase, pin="9999")

    assert response.json()["answer"] == "wrong_pin"
    assert purchase.state == PurchaseState.PAYMENT_FAILED and purchase.failure_reason == "wrong_pin"
    assert not purchase.tokens.exists()


def test_a_pin_that_is_not_four_digits_is_refused_and_the_prompt_stays(client, django_capture_on_commit_callbacks):
    client.get(reverse("demo-wallet"), {"phone": DEMO_PHONE})
    purchase = _buy(django_capture_on_commit_callbacks)

    response = _approve(client, django_capture_on_commit_callbacks, purchase, pin="12")

    assert response.status_code == 400
    assert purchase.state == PurchaseState.PAYMENT_PENDING
    assert [p.id for p in interactive.wallet_prompts(phone=DEMO_PHONE)] == [purchase.reference]


def test_declining_cancels_the_payment_and_texts_the_customer(client, django_capture_on_commit_callbacks):
    client.get(reverse("demo-wallet"), {"phone": DEMO_PHONE})
    purchase = _buy(django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, reverse("demo-wallet-decline", args=[purchase.reference]), {"phone": DEMO_PHONE})

    purchase.refresh_from_db()
    assert response.json()["answer"] == "declined"
    assert purchase.state == PurchaseState.PAYMENT_FAILED and purchase.failure_reason == "cancelled"
    assert purchase.payment.state == PaymentState.FAILED
    [sms] = SmsMessage.objects.filter(phone=DEMO_PHONE, direction="out")
    assert "No money was taken" in sms.text


def test_meter_panel_accepts_a_token_then_says_used(client, django_capture_on_commit_callbacks):
    purchase = _buy(django_capture_on_commit_callbacks)
    token = purchase.tokens.get(kind=Token.Kind.CREDIT)
    url = reverse("demo-meter-token", args=[DEMO_DRN])
    before = client.get(reverse("demo-meter", args=[DEMO_DRN])).json()

    first = _post(client, url, {"token": token.grouped}).json()
    second = _post(client, url, {"token": token.digits}).json()

    assert before["credit_kwh"] == "0.0"
    assert first["display"] == "Accept" and first["accepted"] is True
    assert first["added_kwh"] == f"{token.units:.1f}" and first["credit_kwh"] == f"{token.units:.1f}"
    assert second["display"] == "Used" and second["accepted"] is False
    assert second["credit_kwh"] == first["credit_kwh"]
    assert client.get(reverse("demo-meter", args=[DEMO_DRN])).json()["credit_kwh"] == first["credit_kwh"]


def test_meter_panel_says_crc_error_for_another_meters_token(client, django_capture_on_commit_callbacks):
    purchase = _buy(django_capture_on_commit_callbacks)
    token = purchase.tokens.get(kind=Token.Kind.CREDIT)

    result = _post(client, reverse("demo-meter-token", args=["04123456792"]), {"token": token.digits}).json()

    assert result["display"] == "CRC error" and result["credit_kwh"] == "0.0"


def test_meter_panel_refuses_an_empty_token_and_an_unknown_meter(client):
    assert _post(client, reverse("demo-meter-token", args=[DEMO_DRN]), {"token": " "}).status_code == 400
    assert _post(client, reverse("demo-meter-token", args=["00000000000"]), {"token": "1" * 20}).status_code == 404


@pytest.mark.parametrize(
    ("language", "ask", "hint"),
    [
        ("so", "Ma u bixinaysaa KES 500.00 Nairobi Demo Power?", "Geli PIN-kaaga 4-ta tiro ah"),
        ("sw", "Lipa KES 500.00 kwa Nairobi Demo Power?", "Weka PIN yako ya tarakimu 4"),
    ],
)
def test_the_pin_prompt_speaks_the_payers_language(client, django_capture_on_commit_callbacks, language, ask, hint):
    client.get(reverse("demo-wallet"), {"phone": DEMO_PHONE})
    _buy(django_capture_on_commit_callbacks, language=language)
    [prompt] = client.get(reverse("demo-wallet"), {"phone": DEMO_PHONE}).json()["prompts"]
    assert ask in prompt["texts"]["ask"] and prompt["texts"]["pin_hint"] == hint
    assert "Pay" not in prompt["texts"]["ask"] and "PIN" in prompt["texts"]["wrong_pin"]


def test_the_page_can_speak_the_json_gateway(client):
    config = client.get(reverse("demo-simulator"), {"phone": "+252611000111", "gateway": "json"}).context["config"]
    assert (config["ussdGateway"], config["ussdUrl"]) == ("json", f"/hooks/ussd/json/{settings.WEBHOOK_SECRET}/")
    unknown = client.get(reverse("demo-simulator"), {"gateway": "nosuch"}).context["config"]
    assert unknown["ussdGateway"] == "africastalking"
