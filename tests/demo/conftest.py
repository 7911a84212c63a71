"""Demo test set-up: the seeded demo data, eager Celery (the root conftest's fixture), a clean wallet registry."""

from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command

from demo import interactive
from ussd import sessions

DEMO_PHONE = "+254711000111"
DEMO_DRN = "04123456784"  # "Home", saved by DEMO_PHONE in seed_demo


@pytest.fixture
def demo_data(db):
    call_command("seed_demo", stdout=StringIO())


@pytest.fixture(autouse=True)
def wallet_registry_cleared(settings):
    """No simulator page is open before or after a test (other tests' pushes must stay automatic), and no
    half-finished USSD session is waiting for the demo phones in the shared cache."""
    settings.USSD_DIALS_PER_HOUR = 10_000  # the shared cache outlives a test; the demo phone dials often

    def clear() -> None:
        for phone in (DEMO_PHONE, "+254722000222", "+252611000111", "+252631000222"):
            interactive.wallet_unregister(phone=phone)
            interactive.wallet_prompts_clear(phone=phone)
            cache.delete(sessions._place_key(phone))  # no "continue where you stopped?" from another test

    clear()
    yield
    clear()
