"""Benchmark: key change campaigns (issue 7), base date 1993 → 2014 with a new KRN (the roll-over).

Part A, tokens alone: for N distinct meters, derive the current and the new decoder key and build the
key change token set (RO bit set), each section checked by decrypting it back under the current key;
DKGA02/EA07 (2 tokens) and DKGA04/EA11 (4 tokens), spread over --workers processes. Path "batch" is
what a campaign chunk runs (vending.sts.batch.KeyChangeBatch); "general" is the one-meter path
(MeterConfigs, derive_decoder_key, key_change_tokens, decode_token), for comparison.

Part B, the full campaign path: a fresh database (SQLite under a temporary KORONTO_VAR_DIR, or the
DATABASE_URL you give), M meters, `campaign_start` as a key custodian, then --workers processes call
`campaign_process_chunk` (the Celery task's body; campaign_start enqueues PARALLEL_CHUNKS chains of
it, one per worker process) until nothing is pending: lock, plan, grouped meter UPDATEs, COPY of the
tokens, item UPDATEs, one audit event per chunk. Checks every meter changed exactly once, the token
count and that the campaign closed as done.

Both parts print the measured rate and the extrapolation to 1 000 000 meters.

    .venv/bin/python bench/keychange_campaign.py [--meters 100000] [--campaign-meters 20000] [--workers 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET = 1_000_000
CHUNK = 2000  # backoffice.services.campaign_chunks.CHUNK_SIZE


# -- part A ---------------------------------------------------------------------------------------


def _tokens_slice(args: tuple[str, str, str, bytes, bytes, int, int]) -> int:
    """Key change sets for `count` distinct meters: "batch" as a campaign chunk makes them
    (vending.sts.batch, sections checked against a decrypt), "general" as one meter's key change does
    (two MeterConfigs, derive_decoder_key, key_change_tokens, decode_token per section)."""
    from vending.sts import MeterConfig, decode_token, derive_decoder_key, key_change_tokens
    from vending.sts.batch import KeyChangeBatch
    from vending.sts.identity import luhn_check_digit, pan_from_drn

    path, dkga, ea, old_vk, new_vk, start, count = args
    old = MeterConfig(sgc="600123", ti=1, krn=1, kt=2, ea=ea, dkga=dkga, base_date=1993, vending_key=old_vk)
    new = old.replace(krn=2, base_date=2014, vending_key=new_vk)
    batch = KeyChangeBatch(old, new)
    made = 0
    for i in range(start, start + count):
        payload = f"{20_000_000 + i:010d}"
        drn = payload + luhn_check_digit(payload)
        if path == "batch":
            sections = batch.tokens(
                pan=pan_from_drn(drn),
                kt=2,
                ti=1,
                krn=1,
                base_date=1993,
                new_ti=1,
                new_krn=2,
                new_base_date=2014,
                ro=True,
            )
        else:
            current = old.replace(drn=drn)
            target = new.replace(drn=drn)
            old_key = derive_decoder_key(current)
            sections = key_change_tokens(
                current, target, ro=True, decoder_key=old_key, new_decoder_key=derive_decoder_key(target)
            )
            for section in sections:
                decode_token(section.digits, current, decoder_key=old_key)
        made += len(sections)
    return made


def part_a(meters: int, workers: int) -> list[tuple[str, str, float, int]]:
    results = []
    for path in ("batch", "general"):
        for label, dkga, ea in (("DKGA02/EA07", "02", "07"), ("DKGA04/EA11", "04", "11")):
            size = 8 if dkga == "02" else 20
            old_vk, new_vk = secrets.token_bytes(size), secrets.token_bytes(size)
            share = -(-meters // workers)
            jobs = [(path, dkga, ea, old_vk, new_vk, w * share, min(share, meters - w * share)) for w in range(workers)]
            started = time.perf_counter()
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                tokens = sum(pool.map(_tokens_slice, jobs))
            results.append((path, label, time.perf_counter() - started, tokens))
    return results


# -- part B ---------------------------------------------------------------------------------------


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _setup_campaign(meters: int, dkga: str, ea: str) -> int:
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    from backoffice.services.campaigns import campaign_start
    from backoffice.services.key_changes import KeyChangeTarget
    from vending.meter_numbers import derive_pan
    from vending.models import Meter, SupplyGroup, Tariff, Utility
    from vending.services.keys import supply_group_set_vending_key
    from vending.sts.identity import luhn_check_digit

    call_command("migrate", verbosity=0)
    utility = Utility.objects.create(name=f"Bench {secrets.token_hex(3)}", country="KE", currency="KES")
    size = 8 if dkga == "02" else 20
    sgc = f"{secrets.randbelow(900000) + 100000}"
    old = SupplyGroup.objects.create(
        utility=utility, name="1993", sgc=sgc, key_revision=1, dkga=dkga, ea=ea, base_date=1993
    )
    new = SupplyGroup.objects.create(
        utility=utility, name="2014", sgc=sgc, key_revision=2, dkga=dkga, ea=ea, base_date=2014
    )
    supply_group_set_vending_key(supply_group=old, key=secrets.token_bytes(size))
    supply_group_set_vending_key(supply_group=new, key=secrets.token_bytes(size))
    tariff = Tariff.objects.create(
        utility=utility, name="flat", currency="KES", price_per_kwh=20, min_purchase=10, max_purchase=10000
    )
    base = secrets.randbelow(10**8) * 100
    rows = []
    for i in range(meters):
        payload = f"{base + i:010d}"
        drn = payload + luhn_check_digit(payload)
        rows.append(
            Meter(
                drn=drn,
                pan=derive_pan(drn),
                supply_group=old,
                tariff=tariff,
                key_revision=1,
                base_date=1993,
                label_name="bench",
            )
        )
    Meter.objects.bulk_create(rows, batch_size=2000)
    user = User.objects.create_user(f"custodian-{secrets.token_hex(3)}", password=secrets.token_hex(8), is_staff=True)
    user.groups.add(Group.objects.get(name="Key custodian"))
    ids = Meter.objects.filter(supply_group=old).values_list("pk", flat=True)
    campaign = campaign_start(
        actor=user,
        meter_ids=ids,
        name="bench",
        reason="bench roll-over",
        mode="now",
        delivery="none",
        target=KeyChangeTarget(supply_group=new),
    )
    return campaign.pk


def _worker(args: tuple[int, int]) -> int:
    from django.db import connections

    connections.close_all()  # a forked child opens its own connection
    from backoffice.services.campaign_chunks import campaign_process_chunk

    campaign_id, chunk = args
    total = 0
    while True:
        done = campaign_process_chunk(campaign_id=campaign_id, limit=chunk)
        if not done:
            return total
        total += done


def part_b(meters: int, workers: int, chunk: int, dkga: str, ea: str) -> tuple[float, int, str]:
    from django.db import connection, connections

    from backoffice.models import KeyChangeCampaign, KeyChangeItem
    from vending.models import Token

    campaign_id = _setup_campaign(meters, dkga, ea)
    connections.close_all()
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        processed = sum(pool.map(_worker, [(campaign_id, chunk)] * workers))
    elapsed = time.perf_counter() - started
    done = KeyChangeItem.objects.filter(campaign_id=campaign_id, status="done").count()
    campaign_meters = KeyChangeItem.objects.filter(campaign_id=campaign_id).values("meter_id")
    tokens = Token.objects.filter(kind="key_change", meter_id__in=campaign_meters).count()
    per_meter = 2 if dkga == "02" else 4
    assert processed == meters == done, (processed, meters, done)
    assert tokens == per_meter * meters, (tokens, meters)
    assert KeyChangeCampaign.objects.get(pk=campaign_id).status == "done"
    return elapsed, meters, connection.vendor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meters", type=int, default=100_000, help="part A: meters per algorithm")
    parser.add_argument("--campaign-meters", type=int, default=20_000, help="part B: meters in the campaign")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=CHUNK)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        os.environ["KORONTO_VAR_DIR"] = tempfile.mkdtemp(prefix="koronto-bench-")

    print(f"## Part A: key change token sets alone, {args.meters:,} meters, {args.workers} processes\n")
    print("| path | algorithm | s | meters/s | tokens | 1 000 000 meters (extrapolated) |\n|---|---|---|---|---|---|")
    for path, label, seconds, tokens in part_a(args.meters, args.workers):
        rate = args.meters / seconds
        print(f"| {path} | {label} | {seconds:.2f} | {rate:,.0f} | {tokens:,} | {TARGET / rate:.0f} s |")

    _django()
    print(
        f"\n## Part B: full campaign path, {args.campaign_meters:,} meters, {args.workers} workers, "
        f"chunks of {args.chunk}\n"
    )
    print("| algorithm | database | s | meters/s | 1 000 000 meters (extrapolated) |\n|---|---|---|---|---|")
    for label, dkga, ea in (("DKGA02/EA07", "02", "07"), ("DKGA04/EA11", "04", "11")):
        seconds, meters, vendor = part_b(args.campaign_meters, args.workers, args.chunk, dkga, ea)
        rate = meters / seconds
        print(f"| {label} | {vendor} | {seconds:.2f} | {rate:,.0f} | {TARGET / rate:.0f} s |")


if __name__ == "__main__":
    main()
