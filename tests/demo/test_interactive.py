"""The interactive wallet registry: which pushes the simulator page holds, and for how long."""

from decimal import Decimal

import pytest

from demo import interactive
from tests.demo.conftest import DEMO_DRN, DEMO_PHONE
from vending.models import Meter
from vending.payments import SimulatedCallback
from vending.services.purchases import purchase_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_data", "eager")]

CALLBACKS = (SimulatedCallback(2.0, b'{"outcome": "approved"}'),)


@pytest.fixture
def payment():
    # No on-commit capture: the push is never run, so the payment stays as created.
    purchase = purchase_create(
        channel="ussd",
        meter=Meter.objects.get(drn=DEMO_DRN),
        payer_phone=DEMO_PHONE,
        wallet="mpesa",
        amount=Decimal("200"),
        idempotency_key="hold-1",
    )
    return purchase.payment


def test_a_phone_without_a_page_keeps_the_sandbox_callbacks(payment):
    assert interactive.wallet_prompt_hold(provider="sandbox", payment=payment, callbacks=CALLBACKS) == CALLBACKS


def test_only_sandbox_pushes_are_held(payment):
    interactive.wallet_register(phone=DEMO_PHONE)

    assert interactive.wallet_prompt_hold(provider="daraja", payment=payment, callbacks=CALLBACKS) == CALLBACKS


def test_nothing_is_held_outside_demo_mode(payment, settings):
    interactive.wallet_register(phone=DEMO_PHONE)
    settings.DEMO_MODE = False

    assert interactive.wallet_prompt_hold(provider="sandbox", payment=payment, callbacks=CALLBACKS) == CALLBACKS


def test_a_held_push_becomes_a_prompt_once_committed_and_expires(payment, django_capture_on_commit_callbacks):
    interactive.wallet_register(phone=DEMO_PHONE)

    with django_capture_on_commit_callbacks(execute=True):
        held = interactive.wallet_prompt_hold(provider="sandbox", payment=payment, callbacks=CALLBACKS)

    assert held == ()
    [prompt] = interactive.wallet_prompts(phone=DEMO_PHONE)
    assert prompt.id == payment.purchase.reference and prompt.bodies == ('{"outcome": "approved"}',)
    later = prompt.created_at + interactive.PROMPT_SECONDS
    assert interactive.wallet_prompts(phone=DEMO_PHONE, now=later) == []
    with pytest.raises(interactive.PromptNotFound):
        interactive.wallet_prompt_answer(phone=DEMO_PHONE, prompt_id=prompt.id, pin=None, now=later)


def test_a_closed_page_stops_holding(payment):
    interactive.wallet_register(phone=DEMO_PHONE)
    interactive.wallet_unregister(phone=DEMO_PHONE)

    assert not interactive.wallet_is_interactive(phone=DEMO_PHONE)
    assert interactive.wallet_prompt_hold(provider="sandbox", payment=payment, callbacks=CALLBACKS) == CALLBACKS
