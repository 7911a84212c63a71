"""The agent admin walked in headless Chromium: an operator sets up an agent and its key, Finance funds it,
the key sells through the API, and the sale shows in the statement and the commission report."""

import pytest
import requests

from tests.backoffice.conftest import make_staff
from tests.backoffice.test_browser import browser, login  # noqa: F401 - the fixture
from tests.factories import make_meter
from vending.models import Agent, CommissionRule
from vending.selectors.agents import balance_locked

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_and_finance_set_up_an_agent_that_then_sells(browser, live_server):  # noqa: F811
    operator = make_staff("Vending operator", "operator")
    finance = make_staff("Finance", "finance")
    meter = make_meter()
    login(browser, live_server, operator.username)

    browser.goto(f"{live_server.url}/admin/vending/agent/add/")
    browser.fill("#id_name", "Duka la Browser")
    browser.select_option("#id_currency", "KES")
    browser.click("#terminals-group .add-row a")
    browser.fill("#id_terminals-0-name", "Till 1")
    browser.click("input[name=_continue]")
    browser.wait_for_selector(".new-key")
    agent = Agent.objects.get(name="Duka la Browser")
    browser.click(".new-key")
    browser.wait_for_selector("#agent-form")
    browser.click("#agent-form input[type=submit]")
    browser.wait_for_selector("#api-key")
    key = browser.inner_text("#api-key").strip()
    assert key.startswith("kor_")
    denied = browser.goto(f"{live_server.url}/admin/vending/agent/{agent.pk}/topup/")
    assert denied.status == 403  # operators do not top up floats

    browser.context.clear_cookies()
    login(browser, live_server, finance.username)
    browser.goto(f"{live_server.url}/admin/vending/agent/{agent.pk}/change/")
    browser.click("#top")
    browser.wait_for_selector("#agent-form")
    browser.fill("#id_amount", "1000")
    browser.fill("#id_reference", "EQUITY 778812")
    browser.click("#agent-form input[type=submit]")
    browser.wait_for_selector(".messagelist")
    assert "balance 1000.00" in browser.inner_text(".messagelist")
    assert "1000.00 KES" in browser.inner_text(".field-balance")
    CommissionRule.objects.create(agent=agent, utility=meter.tariff.utility, basis="percent", rate="2")

    sold = requests.post(
        f"{live_server.url}/api/v1/purchases",
        headers={"Authorization": f"Api-Key {key}"},
        json={
            "id": "7d0b8c1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e",
            "meter": meter.drn,
            "amount": "100",
            "currency": "KES",
            "payment": {"method": "float"},
        },
        timeout=30,
    )
    assert sold.status_code == 201 and len(sold.json()["tokens"][0]["digits"]) == 20
    assert balance_locked(agent_id=agent.pk) == 900

    browser.goto(f"{live_server.url}/admin/vending/agent/commission-report/")
    row = browser.inner_text("#commission")
    assert "Duka la Browser" in row and "2.00" in row
