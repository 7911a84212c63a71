"""``python -m vending.sts bench [count]``: in-process tokens/s per algorithm (EA07, EA09, EA11).

Each token is for a different meter, so each derives its decoder key (DKGA02, or DKGA04 for EA11)
as well as encrypting: the realistic cost of vending. For whole-process figures (start-up and JSON
included) see bench/sts_generate.py.
"""

from __future__ import annotations

import time

from vending.sts.config import MeterConfig
from vending.sts.identity import luhn_check_digit
from vending.sts.tokens import credit_token

_CASES = (
    ("EA07", "07", "02", bytes.fromhex("abababababababab")),
    ("EA09", "09", "02", bytes.fromhex("0123456789abcdef")),
    ("EA11", "11", "04", bytes.fromhex("abababababababab949494949494949401234567")),
)


def main(args: list[str]) -> int:
    count = int(args[0]) if args else 20_000
    for name, ea, dkga, key in _CASES:
        drns = [f"{i:010d}" for i in range(count)]
        drns = [d + luhn_check_digit(d) for d in drns]
        start = time.perf_counter()
        for i, drn in enumerate(drns):
            meter = MeterConfig(drn=drn, sgc="123456", ea=ea, dkga=dkga, vending_key=key)
            credit_token(meter, units=100 + i, tid=6_000_000 + i, rnd=i & 15)
        elapsed = time.perf_counter() - start
        print(f"{name} (DKGA{dkga}): {count / elapsed:,.0f} tokens/s ({count} tokens, key derived per token)")
    return 0
