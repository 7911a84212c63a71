"""Idempotency and the float under real concurrency: a hundred client threads against gunicorn.

gunicorn runs two processes of eight threads, so sixteen requests are in flight at once, each on its own
database connection; the rest wait in its listen queue. On Postgres (CI) the agent's row lock is what keeps
the answers identical and the float above the credit limit. SQLite serialises writers (IMMEDIATE
transactions) and runs the same requests; CI (KORONTO_REQUIRE_SERVICES=1) refuses SQLite outright.
"""

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests

from tests.api.conftest import new_agent
from tests.factories import current_base_date, make_flat_tariff, make_meter, make_supply_group, make_utility
from vending.models import AgentSale, FloatEntry, Purchase, Token
from vending.selectors.agents import balance_locked, ledger_sum

pytestmark = pytest.mark.django_db(transaction=True)


def _fire(url: str, key: str, bodies: list[dict]) -> list[requests.Response]:
    """POST every body at once (a barrier releases the threads together), each thread its own connection."""
    barrier = threading.Barrier(len(bodies))

    def one(body: dict) -> requests.Response:
        with requests.Session() as session:
            barrier.wait(timeout=60)
            return session.post(url, json=body, headers={"Authorization": f"Api-Key {key}"}, timeout=120)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(one, bodies))


@pytest.fixture
def meters(db):
    utility = make_utility("KE", "KES")
    group = make_supply_group(utility, base_date=current_base_date(real_clock=True))  # gunicorn vends them
    tariff = make_flat_tariff(utility, price="20", min_purchase=Decimal("10"), max_purchase=Decimal("10000"))
    return [make_meter(supply_group=group, tariff=tariff) for _ in range(5)]


def test_fifty_concurrent_retries_make_one_purchase_and_identical_bodies(api_server, meters):
    agent, key = new_agent("Concurrent retries", opening="10000")
    body = {
        "id": str(uuid.uuid4()),
        "meter": meters[0].drn,
        "amount": "100",
        "currency": "KES",
        "payment": {"method": "float"},
    }
    responses = _fire(f"{api_server.url}/api/v1/purchases", key, [body] * 50)
    assert [r.status_code for r in responses] == [201] * 50
    assert len({r.content for r in responses}) == 1
    assert AgentSale.objects.count() == Purchase.objects.count() == Token.objects.count() == 1
    assert balance_locked(agent_id=agent.pk) == Decimal("9900.00") == ledger_sum(agent_id=agent.pk)
    # And a different body under the used id is refused.
    other = requests.post(
        f"{api_server.url}/api/v1/purchases",
        json={**body, "amount": "150"},
        headers={"Authorization": f"Api-Key {key}"},
        timeout=30,
    )
    assert other.status_code == 409 and other.json()["code"] == "DUPLICATE_RECORD"


def test_hundred_concurrent_purchases_on_float_for_sixty_vend_exactly_sixty(api_server, meters):
    agent, key = new_agent("Float for sixty", opening=str(60 * 100))
    bodies = [
        {
            "id": str(uuid.uuid4()),
            "meter": meters[i % len(meters)].drn,
            "amount": "100",
            "currency": "KES",
            "payment": {"method": "float"},
        }
        for i in range(100)
    ]
    responses = _fire(f"{api_server.url}/api/v1/purchases", key, bodies)
    outcomes = Counter((r.status_code, r.json().get("code")) for r in responses)
    assert outcomes == {(201, None): 60, (422, "LIMIT_EXCEEDED"): 40}
    assert AgentSale.objects.filter(agent=agent).count() == 60 == Token.objects.filter(kind="credit").count()
    assert FloatEntry.objects.filter(agent=agent, kind="sale").count() == 60
    assert balance_locked(agent_id=agent.pk) == Decimal("0.00") == ledger_sum(agent_id=agent.pk)
    # Every entry's running balance is the sum of the entries up to it: no interleaved debit.
    running = Decimal("0")
    for entry in FloatEntry.objects.filter(agent=agent).order_by("id"):
        running += entry.amount
        assert entry.balance_after == running and running >= 0
    issued = {r.json()["tokens"][0]["digits"] for r in responses if r.status_code == 201}
    assert len(issued) == 60
