"""Partner API, in process: CPU of a float purchase against an authenticated meter read, and of its vend.

Runs on the bench database that bench/api_bench.py seeded (its 5 000 meters), through Django's test
client (no HTTP server, no network client), three rounds of 100 each:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/koronto_bench_api REDIS_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/api_inprocess.py

Prints the SQL statements one purchase runs and, per round, the CPU (this process: Django, DRF, psycopg,
the test client) of a meter read and of a purchase, and the part of the purchase spent in the token issue.
"""

import os
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["API_THROTTLE_RATE"] = "1000000/min"
os.environ.setdefault("LOG_LEVEL", "WARNING")


def main() -> int:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from vending.models import Meter
    from vending.services import tokens
    from vending.services.agents import agent_create

    _, issued = agent_create(
        name=f"in-process {uuid.uuid4().hex[:8]}", currency="KES", opening_float=Decimal("100000000")
    )
    drns = list(Meter.objects.filter(drn__startswith="91").values_list("drn", flat=True)[:1000])
    if not drns:
        print("run bench/api_bench.py first: it seeds the bench meters", file=sys.stderr)
        return 2
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {issued.plaintext}")
    spent = [0.0]
    issue = tokens.token_issue_locked

    def timed(**kwargs):  # the vend every channel uses, timed where it is called from
        started = time.process_time()
        try:
            return issue(**kwargs)
        finally:
            spent[0] += time.process_time() - started

    tokens.token_issue_locked = timed

    def buy(n: int) -> None:
        body = {
            "id": str(uuid.uuid4()),
            "meter": drns[n % len(drns)],
            "amount": "100",
            "currency": "KES",
            "payment": {"method": "float"},
        }
        response = client.post("/api/v1/purchases", body, content_type="application/json")
        assert response.status_code == 201, response.content

    def read(n: int) -> None:
        assert client.get(f"/api/v1/meters/{drns[n % len(drns)]}").status_code == 200

    for n in range(20):  # warm: first queries, prepared statements, lazy imports
        buy(n)
        read(n)
    with CaptureQueriesContext(connection) as queries:
        buy(999)
    print("SQL statements per purchase:", len(queries.captured_queries))
    for round_ in range(3):
        spent[0] = 0.0
        started = time.process_time()
        for n in range(100):
            read(n)
        read_ms = (time.process_time() - started) * 10
        started = time.process_time()
        for n in range(100):
            buy(1000 + round_ * 100 + n)
        buy_ms = (time.process_time() - started) * 10
        print(
            f"round {round_ + 1}: meter read {read_ms:.2f} ms CPU, float purchase {buy_ms:.2f} ms CPU "
            f"(token issue {spent[0] * 10:.2f} ms), purchase/read {buy_ms / read_ms:.1f}; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
