"""Partner API set-up: a Kenyan meter, an agent with float and a key, and a client that sends the key."""

import uuid
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from tests.factories import current_base_date, make_flat_tariff, make_meter, make_supply_group, make_utility
from vending.services.agents import agent_create

PRICE = "20"  # KES per kWh: 100 KES buys 5.0 kWh


def _kenya_meter(base_date: int):
    utility = make_utility("KE", "KES")
    group = make_supply_group(utility, base_date=base_date)
    tariff = make_flat_tariff(utility, price=PRICE, min_purchase=Decimal("10"), max_purchase=Decimal("10000"))
    return make_meter(supply_group=group, tariff=tariff, label_name="Amina Hassan")


@pytest.fixture
def kenya_meter(db):
    """A meter the API (in this process) can vend at the test's date."""
    return _kenya_meter(current_base_date())


@pytest.fixture
def served_kenya_meter(db):
    """The same for the API served by gunicorn (`api_server`): its processes keep the real clock."""
    return _kenya_meter(current_base_date(real_clock=True))


def new_agent(name: str = "Duka", *, opening: str = "1000", credit_limit: str = "0", currency: str = "KES"):
    agent, issued = agent_create(
        name=name, currency=currency, opening_float=Decimal(opening), credit_limit=Decimal(credit_limit)
    )
    return agent, issued.plaintext


@pytest.fixture
def agent_key(db):
    return new_agent()


@pytest.fixture
def api(agent_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {agent_key[1]}")
    return client


def purchase_body(meter, amount: str = "100", **extra):
    body = {
        "id": str(uuid.uuid4()),
        "meter": meter.drn,
        "amount": amount,
        "currency": "KES",
        "payment": {"method": "float"},
    }
    body.update(extra)
    return body


@pytest.fixture
def api_server(transactional_db, gunicorn_api):
    """The API served by gunicorn (real processes and threads) on the test database."""
    return gunicorn_api


@pytest.fixture(scope="module")
def gunicorn_api(django_db_setup, django_db_blocker):
    from tests.api.server import Gunicorn

    server = Gunicorn()
    try:
        yield server
    finally:
        server.stop()
