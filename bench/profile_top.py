"""Summarise a py-spy profile (`py-spy record --format raw`, as bench/floor.py --profile writes it).

    .venv/bin/python bench/profile_top.py /tmp/prof/gunicorn-worker.txt [--top 25]

Prints, as shares of all samples (bench/floor.py records with --gil: threads holding the GIL, i.e. Python
CPU): the self samples grouped by layer (ORM, driver, HTTP, Celery, …), koronto's functions and all functions
by samples anywhere on the stack (inclusive), the functions with the most samples as the innermost frame
(self), and the self samples by package.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def _frames(stack: str) -> list[tuple[str, str]]:
    frames = []
    for raw in stack.split(";"):
        match = _FRAME.match(raw.strip())
        frames.append((match["func"], match["file"]) if match else (raw.strip(), ""))
    return frames


def _package(path: str) -> str:
    """A short name for where a file lives: the site-packages distribution, koronto's app, or the stdlib."""
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    for app in ("vending", "ussd", "config", "bench", "fakes", "backoffice", "demo"):
        if f"/{app}/" in path or path.startswith(f"{app}/"):
            return f"koronto:{app}"
    if "/python3" in path or path.startswith("<"):
        name = path.rsplit("/", 1)[-1].removesuffix(".py")
        return f"stdlib:{name}"
    return path


# Where a sample's innermost frame lives, by layer (first match wins).
_LAYERS = (
    ("Django ORM: building and compiling queries, model instances", ("django/db/models/",)),
    (
        "database driver: psycopg + Django's backend, cursor wrappers, transactions",
        (
            "psycopg/",
            "psycopg_",
            "django/db/backends/",
            "django/db/transaction",
            "django/db/utils",
            "config/postgresql/",
        ),
    ),
    (
        "HTTP client: AT SDK, requests, urllib3, http.client, socket",
        (
            "africastalking/",
            "requests/",
            "urllib3/",
            "http/client",
            "socket.py",
            "urllib/",
            "ssl.py",
            "idna/",
            "certifi/",
            "charset_normalizer/",
        ),
    ),
    (
        "Celery, kombu, redis-py, billiard (task and broker machinery)",
        ("celery/", "kombu/", "redis/", "billiard/", "vine/", "amqp/", "concurrent/futures/", "threading.py"),
    ),
    ("pycryptodome (vending key, DES)", ("Crypto/",)),
    ("koronto STS engine", ("vending/sts/",)),
    ("koronto USSD (machine, screens, effects, sessions, i18n)", ("/ussd/",)),
    ("koronto vending (services, models, selectors, sms, tariffs)", ("/vending/",)),
    (
        "Django request/response, URL resolver, middleware, templates, i18n",
        (
            "django/core/",
            "django/http/",
            "django/urls/",
            "django/middleware/",
            "django/contrib/",
            "django/template/",
            "django/utils/",
            "django/views/",
            "django/dispatch/",
            "whitenoise/",
        ),
    ),
    ("gunicorn", ("gunicorn/",)),
    ("json, logging, other stdlib", ("json/", "logging/", "/python3", "<frozen")),
)


def layer(path: str) -> str:
    for name, needles in _LAYERS:
        if any(needle in "/" + path for needle in needles):
            return name
    return "other"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    inclusive: Counter[tuple[str, str]] = Counter()
    own: Counter[tuple[str, str]] = Counter()
    packages: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    total = 0
    for line in args.profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = _frames(stack)
        total += samples
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
        packages[_package(frames[-1][1])] += samples
        layers[layer(frames[-1][1])] += samples
    if not total:
        print("no samples")
        return 1

    def show(title: str, counter: Counter, label) -> None:
        print(f"\n{title} ({total} samples)")
        for key, samples in counter.most_common(args.top):
            print(f"{100 * samples / total:6.1f}%  {label(key)}")

    def where(frame: tuple[str, str]) -> str:
        func, path = frame
        short = path.split("site-packages/", 1)[-1]
        for app in ("/vending/", "/ussd/", "/config/", "/bench/"):
            if app in short:
                short = app.strip("/") + "/" + short.split(app, 1)[1]
        return f"{func}  ({short})"

    show("by layer (innermost frame)", layers, str)
    mine = Counter(
        {
            frame: n
            for frame, n in inclusive.items()
            if any(f"/{app}/" in "/" + frame[1] for app in ("vending", "ussd", "bench"))
        }
    )
    show("koronto's functions, inclusive", mine, where)
    show("inclusive", inclusive, where)
    show("self", own, where)
    show("self, by package", packages, str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
