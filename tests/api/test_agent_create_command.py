"""`manage.py agent_create NAME --float AMOUNT --currency KES [--credit-limit AMOUNT]` prints the key last."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from vending.models import Agent
from vending.selectors.agents import balance_locked

pytestmark = pytest.mark.django_db


def test_agent_create_prints_a_working_key_alone_on_the_last_line():
    out = StringIO()
    call_command(
        "agent_create", "Duka la Mama", "--float", "5000", "--currency", "KES", "--credit-limit", "500", stdout=out
    )
    key = out.getvalue().strip().splitlines()[-1]
    assert key.startswith("kor_") and " " not in key
    agent = Agent.objects.get(name="Duka la Mama")
    assert agent.credit_limit == Decimal("500.00") and agent.terminals.count() == 1
    assert balance_locked(agent_id=agent.pk) == Decimal("5000.00")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert client.get("/api/v1/statement").json()["balance"] == "5000.00"


def test_agent_create_refuses_a_duplicate_name_and_a_bad_amount():
    call_command("agent_create", "Twice", "--currency", "KES", stdout=StringIO())
    with pytest.raises(CommandError, match="exists"):
        call_command("agent_create", "Twice", "--currency", "KES", stdout=StringIO())
    with pytest.raises(CommandError, match="not an amount"):
        call_command("agent_create", "Bad", "--float", "lots", "--currency", "KES", stdout=StringIO())
