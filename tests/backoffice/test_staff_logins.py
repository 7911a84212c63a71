"""Staff logins (issue 17): in production a second factor (TOTP) is required for key custodian, finance and
operator; failed logins are throttled; an idle session ends."""

import time

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.backoffice.conftest import PASSWORD, make_staff

pytestmark = pytest.mark.django_db
ADMIN = "/admin/"


@pytest.fixture
def production_2fa(settings):
    settings.STAFF_2FA_REQUIRED = True


def _login(client, user):
    response = client.post("/admin/login/", {"username": user.username, "password": PASSWORD, "next": ADMIN})
    assert response.status_code == 302, "the password login itself works"


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def test_in_production_a_finance_user_without_a_second_factor_cannot_reach_the_admin(client, production_2fa):
    finance = make_staff("Finance")
    _login(client, finance)
    for url in (ADMIN, reverse("admin:backoffice_dashboard_changelist"), "/admin/vending/purchase/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/2fa/"), url
    page = client.get("/admin/2fa/").content.decode()
    assert 'id="totp-secret"' in page  # asked to register a device first
    assert client.post("/admin/2fa/", {"code": "000000", "next": ADMIN}).status_code == 200
    assert client.get(ADMIN).status_code == 302  # a wrong code is no second factor


def test_with_a_registered_device_and_its_code_finance_reaches_the_admin(client, production_2fa):
    finance = make_staff("Finance")
    _login(client, finance)
    client.get("/admin/2fa/")  # enrolment starts: an unconfirmed device
    device = TOTPDevice.objects.get(user=finance)
    response = client.post("/admin/2fa/", {"code": _code(device), "next": "/admin/vending/purchase/"})
    assert response.status_code == 302 and response["Location"] == "/admin/vending/purchase/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(ADMIN).status_code == 200
    # A new session asks again, and no longer shows the key: the device is registered.
    client.logout()
    _login(client, finance)
    assert client.get(ADMIN).status_code == 302
    assert 'id="totp-secret"' not in client.get("/admin/2fa/").content.decode()


@pytest.mark.parametrize("role", ["Key custodian", "Vending operator"])
def test_the_other_money_roles_need_it_too_support_does_not(client, production_2fa, role):
    _login(client, make_staff(role))
    assert client.get(ADMIN)["Location"].startswith("/admin/2fa/")
    client.logout()
    _login(client, make_staff("Support"))
    assert client.get(ADMIN).status_code == 200


def test_the_demo_default_needs_no_second_factor(client, settings):
    settings.STAFF_2FA_REQUIRED = False
    _login(client, make_staff("Finance"))
    assert client.get(ADMIN).status_code == 200


def test_repeated_failed_logins_lock_the_account_out(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = make_staff("Support")
    for _ in range(3):
        client.post("/admin/login/", {"username": user.username, "password": "wrong", "next": ADMIN})
    response = client.post("/admin/login/", {"username": user.username, "password": PASSWORD, "next": ADMIN})
    assert response.status_code == 429  # even the right password is refused while locked out
    assert client.get(ADMIN).status_code == 302


def test_an_idle_session_ends(client, settings):
    user = make_staff("Support")
    _login(client, user)
    assert client.get(ADMIN).status_code == 200
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE == 1800
    Session.objects.update(expire_date=timezone.now() - timezone.timedelta(seconds=1))  # 30 idle minutes later
    assert client.get(ADMIN).status_code == 302
