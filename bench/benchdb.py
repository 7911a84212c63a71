"""Shared by the benchmarks: make sure the Postgres database named in a URL exists."""

from urllib.parse import urlsplit


def ensure_database(url: str) -> None:
    """Create the database of `url` (connecting to the server's `postgres` database) if it is missing."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
