"""Agents in the back office: Finance tops up and sets limits, operators issue keys (shown once), reports."""

import csv
import io
from decimal import Decimal

import pytest

from backoffice.services import agents as staff
from tests.api.conftest import kenya_meter, new_agent, purchase_body  # noqa: F401 - the fixture
from tests.backoffice.conftest import PASSWORD
from vending.exceptions import PermissionDenied
from vending.models import AuditEvent, CommissionRule, FloatEntry
from vending.selectors.agents import balance_locked, ledger_sum
from vending.services.agents import key_hash

pytestmark = pytest.mark.django_db


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_finance_tops_up_and_the_balance_is_the_sum_of_the_ledger(finance):
    agent, _ = new_agent("Top-up shop", opening="100")
    entry = staff.float_topup(actor=finance, agent=agent, amount=Decimal("250"), reference="EQ-123")
    assert entry.balance_after == Decimal("350.00") == balance_locked(agent_id=agent.pk)
    assert ledger_sum(agent_id=agent.pk) == Decimal("350.00")
    event = AuditEvent.objects.get(action="float.topup", actor=finance)
    assert event.data["amount"] == "250" and event.reason == "EQ-123"


@pytest.mark.parametrize("role", ["support", "operator", "custodian"])
def test_only_finance_tops_up_or_sets_a_credit_limit(request, role):
    user = request.getfixturevalue(role)
    agent, _ = new_agent("Refused shop")
    with pytest.raises(PermissionDenied):
        staff.float_topup(actor=user, agent=agent, amount=Decimal("10"), reference="nope")
    with pytest.raises(PermissionDenied):
        staff.credit_limit_set(actor=user, agent=agent, credit_limit=Decimal("500"), reason="nope")
    assert FloatEntry.objects.filter(agent=agent).count() == 1  # the opening float only


def test_topup_page_for_finance(client, finance):
    agent, _ = new_agent("Page shop", opening="0")
    _login(client, finance)
    response = client.post(f"/admin/vending/agent/{agent.pk}/topup/", {"amount": "500", "reference": "M-PESA QW12"})
    assert response.status_code == 302
    assert balance_locked(agent_id=agent.pk) == Decimal("500.00")


def test_support_cannot_open_the_topup_page(client, support):
    agent, _ = new_agent("Closed shop")
    _login(client, support)
    assert client.get(f"/admin/vending/agent/{agent.pk}/topup/").status_code == 403


def test_operator_issues_a_key_shown_once_and_stored_hashed(client, operator):
    agent, _ = new_agent("Key shop")
    terminal = agent.terminals.get()
    _login(client, operator)
    response = client.post(
        f"/admin/vending/agent/{agent.pk}/terminal/{terminal.pk}/new-key/", {"scopes": ["vend", "reprint"]}
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    text = response.content.decode()
    start = text.index('<code id="api-key">') + len('<code id="api-key">')
    key = text[start : text.index("</code>", start)]
    api_key = terminal.api_keys.latest("created_at")
    assert api_key.key_hash == key_hash(key) and key not in str(api_key.__dict__)
    assert api_key.scopes == ["reprint", "vend"]
    # It works once issued, and the change page never shows it again.
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert api.get("/api/v1/statement").status_code == 403  # no statement scope: authenticated, not allowed
    assert key not in client.get(f"/admin/vending/agent/{agent.pk}/change/").content.decode()


def test_statement_csv_and_commission_report(client, finance, kenya_meter):  # noqa: F811
    from rest_framework.test import APIClient

    agent, key = new_agent("Report shop", opening="1000")
    CommissionRule.objects.create(agent=agent, utility=kenya_meter.tariff.utility, basis="per_kwh", rate="1")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert api.post("/api/v1/purchases", purchase_body(kenya_meter, "100"), format="json").status_code == 201
    _login(client, finance)
    rows = list(csv.reader(io.StringIO(client.get(f"/admin/vending/agent/{agent.pk}/statement.csv").content.decode())))
    kinds = [r[1] for r in rows[1:]]
    assert kinds[:4] == ["opening", "topup", "sale", "closing"] and rows[4][3] == "900.00"
    assert rows[-1][5] == "5.00"  # 5 kWh at 1 KES per kWh
    report = client.get("/admin/vending/agent/commission-report/?export=csv").content.decode()
    assert "Report shop" in report and report.strip().endswith("5.00")


def test_suspended_agent_sells_nothing(operator, kenya_meter):  # noqa: F811
    from rest_framework.test import APIClient

    agent, key = new_agent("Suspended shop")
    staff.agent_suspend(actor=operator, agent=agent, reason="fraud check")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    response = api.post("/api/v1/purchases", purchase_body(kenya_meter, "100"), format="json")
    assert response.status_code == 403 and response.json()["code"] == "AGENT_SUSPENDED"
