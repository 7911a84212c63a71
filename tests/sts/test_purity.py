"""vending.sts must stay a pure core: importing all of it loads no Django."""

from __future__ import annotations

import subprocess
import sys

from tests.sts.conftest import REPO

SCRIPT = """
import importlib, pkgutil, sys
import vending.sts
for info in pkgutil.walk_packages(vending.sts.__path__, "vending.sts."):
    if info.name != "vending.sts.__main__":
        importlib.import_module(info.name)
import vending.sts.sta, vending.sts.misty1
assert not any(m == "django" or m.startswith("django.") for m in sys.modules), "django imported"
print("ok")
"""


def test_no_django_below_vending_sts() -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
