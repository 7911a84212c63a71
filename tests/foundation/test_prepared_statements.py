"""Postgres plans a hot statement once per connection: psycopg prepares what a connection runs often."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import make_meter
from vending.selectors.quotes import purchase_quote_for_drn

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="Postgres only (CI runs it)"),
]

NOW = datetime(2026, 3, 15, 9, 0, tzinfo=UTC)


def _prepared_quote_statements() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%vending_tariffblock%"])
        return cursor.fetchone()[0]


def test_the_quote_statement_is_prepared_after_five_runs_and_answers_the_same():
    meter = make_meter()
    first = purchase_quote_for_drn(drn=meter.drn, amount=Decimal("500"), now=NOW)
    assert _prepared_quote_statements() == 0
    later = [purchase_quote_for_drn(drn=meter.drn, amount=Decimal("500"), now=NOW) for _ in range(6)]
    assert _prepared_quote_statements() == 1
    assert later == [first] * 6


def _database_options(**env: str) -> dict:
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default'].get('OPTIONS', {})))"
    )
    inherited = {name: value for name, value in os.environ.items() if name != "DB_PREPARED_STATEMENTS"}
    postgres = {"DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
        env=inherited | postgres | env,
    )
    return json.loads(result.stdout)


def test_prepared_statements_are_on_by_default_and_can_be_switched_off_for_a_pooler():
    assert _database_options() == {"server_side_binding": True, "prepare_threshold": 5}
    assert _database_options(DB_PREPARED_STATEMENTS="0") == {}
