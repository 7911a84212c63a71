"""The pure machine, without a database: state in, state out, effects as values."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.ussd.fake_reader import FakeReader
from ussd import machine
from ussd.conversation import CreatePurchase, Ctx, Item, ListScreen, MeterInfo, SavedMeter, SaveMeter

ROOT = Path(__file__).resolve().parents[2]
HOME_METER = MeterInfo(
    drn="04123456784", label="Wanjiku Home", active=True, currency="KES", min_amount="20.00", max_amount="35000.00"
)


def walk(reader, answers, lang="en"):
    step = machine.start(lang=lang, reader=reader)
    steps = [step]
    for answer in answers:
        json.dumps(step.state)  # every state is JSON (it lives in Redis between hops)
        step = machine.step(json.loads(json.dumps(step.state)), answer, reader)
        steps.append(step)
    return steps


def test_the_machine_runs_without_django_settings_or_the_orm():
    script = (
        "import sys\n"
        "from ussd import machine\n"
        "from tests.ussd.fake_reader import FakeReader\n"
        "step = machine.step(machine.start(lang='sw', reader=FakeReader()).state, '1', FakeReader())\n"
        "from django.conf import settings\n"
        "assert step.reply.startswith('Weka namba ya mita:'), step.reply\n"
        "assert not settings.configured\n"
        "assert not [m for m in sys.modules if m.startswith('django.db')]\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_purchase_is_an_effect_of_the_last_step_only():
    reader = FakeReader(saved=[SavedMeter("04123456784", "Home", "Wanjiku Home")], meters={"04123456784": HOME_METER})
    steps = walk(reader, ["1", "1", "500", "1"])
    assert [s.end for s in steps] == [False, False, False, False, True]
    assert all(not s.effects for s in steps[:-1])
    assert steps[-1].effects == (CreatePurchase(drn="04123456784", amount="500", wallet="mpesa"),)


def test_saving_a_typed_meter_is_best_effort():
    reader = FakeReader(meters={"04123456784": HOME_METER})
    steps = walk(reader, ["1", "04123456784", "2"])
    assert steps[-1].effects == (SaveMeter("04123456784", best_effort=True),)


def test_a_corrupt_state_restarts_at_home():
    reader = FakeReader()
    step = machine.step({"screen": "no-such-screen", "lang": "so"}, "1", reader)
    assert step.state["screen"] in ("pick_meter", "enter_meter")  # "1" on the home screen: buy
    assert machine.step("garbage", "00", reader).state["screen"] == "home"


class Numbers(ListScreen):
    name = "test.numbers"

    def __init__(self, count: int) -> None:
        self.count = count

    def title(self, ctx):
        return "Pick"

    def items(self, ctx):
        return [Item(f"n{n}", n) for n in range(self.count)]

    def choose(self, ctx, value):
        return machine.Finish("ussd.buy.cancelled")


def test_seven_short_items_fit_on_one_page_and_eight_paginate_with_98_more():
    ctx = Ctx(lang="en", data={}, reader=FakeReader())
    seven = Numbers(7).render(ctx)
    assert "98 Next" not in seven and "7. n6" in seven
    eight = Numbers(8).render(ctx)
    assert "7. n6\n98 Next\n0 Back 00 Home" in eight and "8. n7" not in eight
    page_two = Numbers(8).handle(ctx, "98")
    assert page_two.data == {"page": 1}
    assert Numbers(8).render(Ctx(lang="en", data={"page": 1}, reader=FakeReader())) == "Pick\n8. n7\n0 Back 00 Home"
    assert isinstance(Numbers(7).handle(ctx, "98"), machine.Retry)
