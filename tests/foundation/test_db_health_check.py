"""config.postgresql: the connection health check polls the socket instead of sending SELECT 1."""

import time

import psycopg
import pytest
from django.db import connection, connections
from django.db.backends.postgresql import base as django_postgresql

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="Postgres only (CI runs it)"),
]


@pytest.fixture
def wrapper():
    """A connection of its own, so killing it leaves the test's connection alone."""
    own = connections.create_connection("default")
    own.ensure_connection()
    yield own
    own.close()


def test_an_idle_healthy_connection_is_usable_without_a_query(wrapper, monkeypatch):
    def select_one(self):
        raise AssertionError("the idle check must not send SELECT 1")

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", select_one)
    assert wrapper.is_usable()


def test_a_connection_the_server_dropped_is_not_usable(wrapper):
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [pid] = cursor.fetchone()
    params = wrapper.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while wrapper.is_usable() and time.monotonic() < deadline:  # the goodbye arrives asynchronously
        time.sleep(0.01)
    assert not wrapper.is_usable()
    wrapper.close()  # what Django does with an unusable connection; the next query connects afresh
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_inside_a_transaction_the_check_asks_the_server(wrapper, monkeypatch):
    asked = []
    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", lambda self: asked.append(1) or True)
    wrapper.set_autocommit(False)
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert wrapper.is_usable() and asked == [1]
    wrapper.rollback()
    wrapper.set_autocommit(True)
