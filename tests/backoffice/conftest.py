"""Staff users per role and a fixed clock for the back office tests."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.models import Group, User

from backoffice.roles import FINANCE, KEY_CUSTODIAN, SUPPORT, VENDING_OPERATOR

NOW = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
PASSWORD = "correct-horse-battery-staple-7"


def make_staff(role: str | None, username: str | None = None) -> User:
    user = User.objects.create_user(
        username=username or (role or "nobody").lower().replace(" ", "_"), password=PASSWORD, is_staff=True
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def now(wall_clock) -> datetime:
    """The instant the services are told it is: NOW, or the date KORONTO_TEST_DATE moved the suite to
    (meters the factories make then are on that date's base date, so their tokens must be made then too)."""
    return wall_clock or NOW


@pytest.fixture
def january_2026():
    """The wall clock at NOW (as well as `now`), at any date the suite runs at: for tests whose subject is
    base 2014 as the safe target (the 1993 → 2014 roll-over; issue 17's meter on base 2014), which stops
    being true as 2045-11-24 nears (the key-change guard wants five years of TIDs left)."""
    with time_machine.travel(NOW, tick=True):
        yield NOW


@pytest.fixture
def support(db) -> User:
    return make_staff(SUPPORT)


@pytest.fixture
def operator(db) -> User:
    return make_staff(VENDING_OPERATOR)


@pytest.fixture
def custodian(db) -> User:
    return make_staff(KEY_CUSTODIAN)


@pytest.fixture
def finance(db) -> User:
    return make_staff(FINANCE)
