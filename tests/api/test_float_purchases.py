"""Float purchases: the token in the response, the same vend as USSD, replays and DUPLICATE_RECORD."""

import json
from decimal import Decimal

from tests.api.conftest import new_agent, purchase_body
from vending.models import AgentSale, AuditEvent, FloatEntry, Payment, Purchase, Token
from vending.selectors.agents import balance_locked, ledger_sum
from vending.services.virtual_meters import meter_config
from vending.states import PurchaseState
from vending.sts import VirtualMeter


def test_float_purchase_returns_tokens_units_and_debits_the_float(api, agent_key, kenya_meter):
    agent, _ = agent_key
    response = api.post("/api/v1/purchases", purchase_body(kenya_meter, "100"), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "completed"
    assert body["units"] == "5" or Decimal(body["units"]) == Decimal("5")
    [token] = body["tokens"]
    assert token["kind"] == "standard" and len(token["digits"]) == 20 and token["digits"].isdigit()
    assert Decimal(token["units"]) == Decimal("5.0")
    assert body["tid"] == token["tid"]
    purchase = Purchase.objects.get(reference=body["receipt"])
    assert purchase.state == PurchaseState.DELIVERED and purchase.channel == "api"
    assert Token.objects.get(purchase=purchase).digits == token["digits"]
    assert Payment.objects.get(purchase=purchase).state == "confirmed"
    assert balance_locked(agent_id=agent.pk) == Decimal("900.00") == ledger_sum(agent_id=agent.pk)
    # The token is what the meter accepts: the vend every channel uses checked it on a virtual meter.
    result = VirtualMeter(meter_config(meter=kenya_meter)).enter(token["digits"])
    assert result.accepted and result.units_added == 50


def test_every_call_is_audited_with_the_terminal(api, agent_key, kenya_meter):
    api.get(f"/api/v1/meters/{kenya_meter.drn}")
    event = AuditEvent.objects.filter(action="api.call").latest("pk")
    assert event.object_type == "agentterminal" and event.object_id == str(agent_key[0].terminals.get().pk)
    assert event.data["status"] == 200 and event.data["path"] == f"/api/v1/meters/{kenya_meter.drn}"


def test_same_id_same_body_returns_the_same_bytes_and_one_purchase(api, kenya_meter):
    body = purchase_body(kenya_meter, "100")
    first = api.post("/api/v1/purchases", body, format="json")
    again = api.post("/api/v1/purchases", body, format="json")
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert AgentSale.objects.count() == Purchase.objects.count() == 1


def test_same_id_other_body_is_duplicate_record(api, kenya_meter):
    body = purchase_body(kenya_meter, "100")
    api.post("/api/v1/purchases", body, format="json")
    response = api.post("/api/v1/purchases", {**body, "amount": "200"}, format="json")
    assert response.status_code == 409
    assert response.json() == {"code": "DUPLICATE_RECORD", "message": response.json()["message"], "field": "id"}
    assert Purchase.objects.count() == 1


def test_ids_are_per_agent(api, kenya_meter):
    from rest_framework.test import APIClient

    body = purchase_body(kenya_meter, "100")
    api.post("/api/v1/purchases", body, format="json")
    _, other_key = new_agent("Other shop")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Api-Key {other_key}")
    response = other.post("/api/v1/purchases", body, format="json")
    assert response.status_code == 201
    assert Purchase.objects.count() == 2
    assert other.get(f"/api/v1/purchases/{body['id']}").json()["receipt"] == response.json()["receipt"]


def test_insufficient_float_is_refused_and_nothing_is_vended(db, kenya_meter):
    from rest_framework.test import APIClient

    agent, key = new_agent("Small shop", opening="50", credit_limit="30")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    ok = client.post("/api/v1/purchases", purchase_body(kenya_meter, "80"), format="json")
    assert ok.status_code == 201  # 50 - 80 = -30: exactly the credit limit
    refused = client.post("/api/v1/purchases", purchase_body(kenya_meter, "10"), format="json")
    assert refused.status_code == 422 and refused.json()["code"] == "LIMIT_EXCEEDED"
    assert refused.json()["field"] == "amount"
    assert Purchase.objects.count() == Token.objects.count() == 1
    assert balance_locked(agent_id=agent.pk) == Decimal("-30.00") == ledger_sum(agent_id=agent.pk)


def test_refusal_stores_nothing_so_the_id_can_be_retried(db, kenya_meter):
    from rest_framework.test import APIClient

    from vending.services.agents import float_topup

    agent, key = new_agent("Retry shop", opening="10")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    body = purchase_body(kenya_meter, "100")
    assert client.post("/api/v1/purchases", body, format="json").json()["code"] == "LIMIT_EXCEEDED"
    float_topup(agent=agent, amount=Decimal("500"), reference="bank 123")
    assert client.post("/api/v1/purchases", body, format="json").status_code == 201


def test_key_change_tokens_come_first(api, kenya_meter):
    from tests.factories import make_supply_group

    # A new key on the same base date: the two key change tokens, no rollover.
    new_group = make_supply_group(kenya_meter.supply_group.utility, base_date=kenya_meter.base_date)
    kenya_meter.pending_supply_group = new_group
    kenya_meter.pending_key_revision = new_group.key_revision
    kenya_meter.save()
    body = api.post("/api/v1/purchases", purchase_body(kenya_meter, "100"), format="json").json()
    kinds = [t["kind"] for t in body["tokens"]]
    assert kinds == ["key_change", "key_change", "standard"]
    assert body["tokens"][0]["units"] is None


def test_customer_phone_gets_the_token_sms(api, kenya_meter):
    from vending.models import SmsMessage

    body = api.post(
        "/api/v1/purchases", purchase_body(kenya_meter, "100", customer_phone="0711000222"), format="json"
    ).json()
    sms = SmsMessage.objects.get(phone="+254711000222")
    digits = body["tokens"][0]["digits"]
    assert " ".join(digits[i : i + 4] for i in range(0, 20, 4)) in sms.text


def test_amount_limits_and_blocked_meter_have_stable_codes(api, kenya_meter):
    low = api.post("/api/v1/purchases", purchase_body(kenya_meter, "5"), format="json")
    high = api.post("/api/v1/purchases", purchase_body(kenya_meter, "20000"), format="json")
    assert (low.json()["code"], high.json()["code"]) == ("AMOUNT_TOO_LOW", "AMOUNT_TOO_HIGH")
    kenya_meter.status = "blocked"
    kenya_meter.save()
    blocked = api.post("/api/v1/purchases", purchase_body(kenya_meter, "100"), format="json")
    assert blocked.status_code == 422 and blocked.json()["code"] == "METER_ID_BLOCKED"
    assert FloatEntry.objects.filter(kind="sale").count() == 0


def test_meter_endpoint_masks_the_name_and_says_whether_it_can_vend(api, kenya_meter):
    body = api.get(f"/api/v1/meters/{kenya_meter.drn}").json()
    assert body["customer_name"] == "A**** H*****"
    assert body["can_vend"] is True and body["min_amount"] == "10.00" and body["currency"] == "KES"
    kenya_meter.status = "blocked"
    kenya_meter.save()
    body = api.get(f"/api/v1/meters/{kenya_meter.drn}").json()
    assert body["can_vend"] is False and body["reason_code"] == "METER_ID_BLOCKED"


def test_quote_has_no_side_effects(api, agent_key, kenya_meter):
    response = api.post("/api/v1/quotes", {"meter": kenya_meter.drn, "amount": "100"}, format="json")
    assert response.status_code == 200
    assert Decimal(response.json()["units"]) == Decimal("5")
    assert Purchase.objects.count() == 0 and balance_locked(agent_id=agent_key[0].pk) == Decimal("1000.00")


def test_statement_lists_movements_sales_and_commission(api, agent_key, kenya_meter):
    from vending.models import CommissionRule

    agent = agent_key[0]
    CommissionRule.objects.create(agent=agent, utility=kenya_meter.tariff.utility, basis="percent", rate="2.5")
    api.post("/api/v1/purchases", purchase_body(kenya_meter, "100"), format="json")
    api.post("/api/v1/purchases", purchase_body(kenya_meter, "200"), format="json")
    body = api.get("/api/v1/statement").json()
    assert [e["kind"] for e in body["entries"]] == ["topup", "sale", "sale"]
    assert body["sales_count"] == 2 and body["sales_amount"] == "300.00" and body["commission"] == "7.50"
    assert body["closing_balance"] == body["balance"] == "700.00"


def test_scopes_limit_what_a_key_may_do(db, kenya_meter):
    from rest_framework.test import APIClient

    from vending.services.agents import api_key_create

    agent, _ = new_agent("Scoped")
    issued = api_key_create(terminal=agent.terminals.get(), scopes=["vend"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {issued.plaintext}")
    response = client.get("/api/v1/statement")
    assert response.status_code == 403 and response.json()["code"] == "PERMISSION_DENIED"


def test_stored_response_is_the_exact_body(api, kenya_meter):
    response = api.post("/api/v1/purchases", purchase_body(kenya_meter, "100"), format="json")
    sale = AgentSale.objects.get()
    assert response.content.decode() == sale.response_body
    assert json.loads(sale.response_body)["receipt"] == sale.purchase.reference


def test_a_refused_vend_sells_nothing_and_debits_nothing(api, agent_key, kenya_meter, monkeypatch):
    from vending.exceptions import StsError
    from vending.services import tokens

    def refuse(**kwargs):
        raise StsError("the virtual meter refused the new token: test")

    monkeypatch.setattr(tokens, "token_issue_locked", refuse)
    response = api.post("/api/v1/purchases", purchase_body(kenya_meter, "100"), format="json")
    assert response.status_code == 422 and response.json()["code"] == "METER_KEY_INVALID"
    assert Purchase.objects.count() == AgentSale.objects.count() == 0
    assert balance_locked(agent_id=agent_key[0].pk) == Decimal("1000.00")


def test_the_key_change_guard_holds_for_float_purchases(api, agent_key, kenya_meter):
    """A meter whose configuration cannot vend (here: a supply group of another utility) is refused by the
    API before the float is touched, with the same check as USSD and SMS (vending.selectors.vendability)."""
    from vending.models import SupplyGroup, Utility

    other = Utility.objects.create(name="Elsewhere Power", country="SO", currency="USD")
    foreign = SupplyGroup.objects.get(pk=kenya_meter.supply_group_id)  # its key and settings, another owner
    foreign.pk, foreign.utility, foreign.sgc, foreign.name = None, other, "999910", "Elsewhere"
    foreign.save()
    kenya_meter.supply_group = foreign
    kenya_meter.save()
    meter_view = api.get(f"/api/v1/meters/{kenya_meter.drn}").json()
    assert meter_view["can_vend"] is False and meter_view["reason_code"] == "METER_KEY_INVALID"
    response = api.post("/api/v1/purchases", purchase_body(kenya_meter, "100"), format="json")
    assert response.status_code == 422 and response.json()["code"] == "METER_KEY_INVALID"
    assert Purchase.objects.count() == AgentSale.objects.count() == 0
    assert balance_locked(agent_id=agent_key[0].pk) == Decimal("1000.00")
