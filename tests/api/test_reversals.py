"""Reversal and confirmation: void and refund once, before confirmation and within the window only."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from tests.api.conftest import purchase_body
from vending.models import AgentSale, FloatEntry, Payment, RevenueFinding, TokenVoid
from vending.selectors.agents import balance_locked, ledger_sum
from vending.services.virtual_meters import meter_enter
from vending.states import PurchaseState


def _buy(api, meter, amount="100"):
    body = purchase_body(meter, amount)
    response = api.post("/api/v1/purchases", body, format="json")
    assert response.status_code == 201
    return body["id"], response.json()


def test_reversal_before_confirmation_voids_and_refunds_once(api, agent_key, kenya_meter):
    agent = agent_key[0]
    purchase_id, bought = _buy(api, kenya_meter)
    first = api.post(f"/api/v1/purchases/{purchase_id}/reversal", {"reason": "customer changed mind"}, format="json")
    again = api.post(f"/api/v1/purchases/{purchase_id}/reversal", {}, format="json")
    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == again.json()["status"] == "reversed"
    assert first.json()["tokens"][0]["voided"] is True
    assert TokenVoid.objects.count() == 1
    assert FloatEntry.objects.filter(kind="reversal").count() == 1
    assert balance_locked(agent_id=agent.pk) == Decimal("1000.00") == ledger_sum(agent_id=agent.pk)
    sale = AgentSale.objects.get()
    assert sale.purchase.state == PurchaseState.REFUNDED
    assert Payment.objects.get(purchase=sale.purchase).state == "refunded"
    # A retry of the original purchase still answers with the original response (the token it issued).
    replay = api.post("/api/v1/purchases", {**purchase_body(kenya_meter, "100"), "id": purchase_id}, format="json")
    assert replay.status_code == 201 and replay.json()["tokens"] == bought["tokens"]


def test_reversal_after_confirmation_is_refused(api, kenya_meter):
    purchase_id, _ = _buy(api, kenya_meter)
    confirmed = api.post(f"/api/v1/purchases/{purchase_id}/confirmation")
    assert confirmed.status_code == 200 and confirmed.json()["confirmed_at"]
    assert api.post(f"/api/v1/purchases/{purchase_id}/confirmation").status_code == 200  # idempotent
    refused = api.post(f"/api/v1/purchases/{purchase_id}/reversal", {}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "ALREADY_CONFIRMED"
    assert TokenVoid.objects.count() == 0 and FloatEntry.objects.filter(kind="reversal").count() == 0


def test_reversal_outside_the_window_is_refused(api, kenya_meter, settings):
    settings.API_REVERSAL_WINDOW_SECONDS = 60
    purchase_id, _ = _buy(api, kenya_meter)
    AgentSale.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    refused = api.post(f"/api/v1/purchases/{purchase_id}/reversal", {}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "REVERSAL_WINDOW_CLOSED"
    assert AgentSale.objects.get().reversed_at is None


def test_confirmation_after_reversal_is_refused(api, kenya_meter):
    purchase_id, _ = _buy(api, kenya_meter)
    api.post(f"/api/v1/purchases/{purchase_id}/reversal", {}, format="json")
    refused = api.post(f"/api/v1/purchases/{purchase_id}/confirmation")
    assert refused.status_code == 409 and refused.json()["code"] == "ALREADY_REVERSED"


def test_reversal_needs_the_reverse_scope(db, kenya_meter):
    from rest_framework.test import APIClient

    from tests.api.conftest import new_agent
    from vending.services.agents import api_key_create

    agent, _ = new_agent("Vend only")
    issued = api_key_create(terminal=agent.terminals.get(), scopes=["vend"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {issued.plaintext}")
    purchase_id, _ = _buy(client, kenya_meter)
    refused = client.post(f"/api/v1/purchases/{purchase_id}/reversal", {}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "PERMISSION_DENIED"


def test_unknown_or_other_agents_purchase_is_not_found(api, kenya_meter):
    import uuid

    response = api.post(f"/api/v1/purchases/{uuid.uuid4()}/reversal", {}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"


def test_a_voided_token_accepted_by_the_meter_is_a_revenue_finding(api, kenya_meter):
    purchase_id, bought = _buy(api, kenya_meter)
    api.post(f"/api/v1/purchases/{purchase_id}/reversal", {}, format="json")
    result = meter_enter(meter=kenya_meter, token=bought["tokens"][0]["digits"])
    assert result.accepted  # the meter cannot know: that is the finding
    finding = RevenueFinding.objects.get()
    assert finding.meter == kenya_meter and finding.token_void.sale.client_id.hex == purchase_id.replace("-", "")


def test_an_accepted_token_that_was_not_voided_is_no_finding(api, kenya_meter):
    _, bought = _buy(api, kenya_meter)
    assert meter_enter(meter=kenya_meter, token=bought["tokens"][0]["digits"]).accepted
    assert RevenueFinding.objects.count() == 0
