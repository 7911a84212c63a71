"""The task floor of bench/floor.py (issue 18): the least a vend-shaped Celery task can do.

Loaded into the bench's workers with `celery worker --include bench.floor_tasks`, so it runs on the same broker,
pool and worker configuration as the real vend (and the same per-task database connection rule, which
vending.tasks installs for every task of the worker). One task: load one row, write three rows and commit on
Postgres (production durability: the server's own synchronous_commit/fsync, nothing relaxed), then one HTTP POST
to a loopback server (the fake Africa's Talking gateway, the SMS the real vend sends), on a new connection as
the AT SDK opens one per SMS. Plain SQL through Django's connection and the standard library's http.client: no
ORM, no requests, nothing the floor could do without.

The tables are the bench's own (`bench_floor_source`, `bench_floor_row`), created by bench/floor.py in the bench
database, never by a migration.
"""

from __future__ import annotations

import http.client
from urllib.parse import urlencode, urlsplit

from celery import shared_task
from django.db import connection, transaction

CREATE_SQL = """
CREATE TABLE IF NOT EXISTS bench_floor_source (id bigint PRIMARY KEY, drn text NOT NULL, price numeric NOT NULL);
CREATE TABLE IF NOT EXISTS bench_floor_row (
    id bigserial PRIMARY KEY, op bigint NOT NULL, kind smallint NOT NULL, body text NOT NULL,
    enqueued_at double precision NOT NULL, done_at timestamptz NOT NULL DEFAULT clock_timestamp());
"""


@shared_task(acks_late=True)
def floor_task(op: int, source_id: int, at_url: str, username: str, api_key: str, enqueued_at: float) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT drn, price FROM bench_floor_source WHERE id = %s", [source_id])
        drn, price = cursor.fetchone()
        for kind in (1, 2, 3):  # three rows, three statements (the vend's payment, token and SMS rows)
            cursor.execute(
                "INSERT INTO bench_floor_row (op, kind, body, enqueued_at) VALUES (%s, %s, %s, %s)",
                [op, kind, f"{drn}:{price}:{kind}", enqueued_at],
            )
    target = urlsplit(at_url)
    body = urlencode({"username": username, "to": "+254711000111", "message": f"Floor {op} {drn}"})
    client = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port or 80, timeout=10)
    try:
        client.request(
            "POST",
            "/version1/messaging",
            body=body,
            headers={
                "apiKey": api_key,
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        response = client.getresponse()
        response.read()
        if response.status >= 300:
            raise RuntimeError(f"the loopback gateway answered {response.status}")
    finally:
        client.close()
