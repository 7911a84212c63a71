"""Staff users per role and a fixed clock for the back office tests."""

from datetime import UTC, datetime

import pytest
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
def now() -> datetime:
    return NOW


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
