"""Shared by the benchmarks: the Postgres database named in a URL, the bench database reset, the bench meters."""

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


def reset_for_bench(*, redis_url: str, tables: list[str]) -> None:
    """Migrate and seed the demo utilities (Django must be set up), flush the bench's Redis database and empty
    `tables` (the bench's own database: every run starts without the sales of the last)."""
    import redis
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, staff_password="bench-only-password")
    redis.Redis.from_url(redis_url).flushdb()
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


def bench_meters(*, first: int, count: int) -> list[str]:
    """`count` Kenyan meters numbered from `first` (10 digits + Luhn), made like the demo's 04123456784 (same
    supply group, tariff, key revision and base date) if missing, their TID memory cleared; their numbers."""
    from vending.meter_numbers import derive_pan
    from vending.models import Meter, Tariff
    from vending.sts.identity import luhn_check_digit

    template = Meter.objects.get(drn="04123456784")
    tariff = Tariff.objects.get(pk=template.tariff_id)
    drns = [(p := f"{first + n:010d}") + luhn_check_digit(p) for n in range(count)]
    Meter.objects.bulk_create(
        [
            Meter(
                drn=drn,
                pan=derive_pan(drn),
                supply_group_id=template.supply_group_id,
                tariff=tariff,
                key_revision=template.key_revision,
                base_date=template.base_date,
                label_name=f"Bench {n}",
            )
            for n, drn in enumerate(drns)
        ],
        ignore_conflicts=True,
        batch_size=2000,
    )
    Meter.objects.filter(drn__in=drns).update(last_tid=None)
    return drns
