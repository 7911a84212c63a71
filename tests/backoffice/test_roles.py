"""The four roles exist on a freshly migrated database with exactly their permissions."""

import pytest
from django.contrib.auth.models import Group, Permission

from backoffice import permissions as perms
from backoffice.roles import ROLE_PERMISSIONS, sync_roles
from tests.backoffice.conftest import make_staff

pytestmark = pytest.mark.django_db


def test_migration_creates_each_role_with_exactly_its_permissions():
    for role, expected in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        got = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert got == set(expected), role


def test_every_listed_permission_exists():
    assert sync_roles(group_model=Group, permission_model=Permission) == {}


@pytest.mark.parametrize(
    ("role", "perm", "allowed"),
    [
        ("Support", perms.RESEND_TOKEN, True),
        ("Support", perms.REFUND_PURCHASE, False),
        ("Support", perms.CHANGE_METER_KEY, False),
        ("Vending operator", perms.REFUND_PURCHASE, True),
        ("Vending operator", perms.ISSUE_ENGINEERING_TOKEN, True),
        ("Vending operator", perms.CHANGE_METER_KEY, False),
        ("Key custodian", perms.CHANGE_METER_KEY, True),
        ("Key custodian", perms.RESEND_TOKEN, False),
        ("Finance", perms.RECONCILE, True),
        ("Finance", perms.VIEW_REPORTS, True),
        ("Finance", perms.ISSUE_FREE_TOKEN, False),
    ],
)
def test_role_grants(role, perm, allowed):
    user = make_staff(role, username=f"u-{role}-{perm}".replace(" ", "")[:30])
    assert perms.allowed(user, perm) is allowed


def test_a_non_staff_user_is_refused_even_with_the_permission():
    user = make_staff("Support")
    user.is_staff = False
    user.save()
    assert perms.allowed(user, perms.RESEND_TOKEN) is False
