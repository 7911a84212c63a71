"""Vending keys stay secret (database row, admin page, logs); /healthz tells the truth."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import make_supply_group, make_utility
from vending.models import SupplyGroup

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
TYPED_KEY = "0abc12def34567890abc12def34567890abc12de"  # a DKGA04-length test key


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("keeper", "", "pw-for-tests-only")
    client.force_login(user)
    return client


def _add_group_through_admin(staff_client, utility) -> SupplyGroup:
    response = staff_client.post(
        "/admin/vending/supplygroup/add/",
        {
            "utility": utility.pk,
            "name": "Coast",
            "sgc": "123457",
            "key_revision": 1,
            "dkga": "04",
            "ea": "11",
            "base_date": 2014,
            "ken": 255,
            "is_active": "on",
            "new_vending_key": TYPED_KEY,
            "key_reason": "new coast group",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    # Maker-checker: a second person approves the key before it is used (backoffice/services/approvals.py).
    from django.contrib.auth import get_user_model
    from django.test import Client

    from backoffice.models import Approval

    approval = Approval.objects.get(kind="vending_key")
    checker = Client()
    checker.force_login(get_user_model().objects.create_superuser("second", "", "pw-for-tests-only"))
    decided = checker.post(
        f"/admin/backoffice/approval/{approval.pk}/decide/",
        {"reason": "key ceremony sheet checked", "approve": "Approve"},
    )
    assert decided.status_code == 302
    for url in (f"/admin/backoffice/approval/{approval.pk}/change/", "/admin/backoffice/approval/"):
        assert TYPED_KEY[:16] not in checker.get(url).content.decode().lower(), url
    return SupplyGroup.objects.get(sgc="123457")


def test_vending_key_saved_through_admin_is_encrypted_in_the_row(staff_client):
    group = _add_group_through_admin(staff_client, make_utility())
    assert group.vending_key() == bytes.fromhex(TYPED_KEY)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM vending_supplygroup WHERE id = %s", [group.pk])
        row = cursor.fetchone()
    raw = b"".join(bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode() for v in row)
    assert bytes.fromhex(TYPED_KEY) not in raw
    assert TYPED_KEY.encode() not in raw.lower()


def test_vending_key_is_never_shown_back_in_the_admin(staff_client):
    group = _add_group_through_admin(staff_client, make_utility())
    for url in [
        "/admin/vending/supplygroup/",
        f"/admin/vending/supplygroup/{group.pk}/change/",
        f"/admin/vending/supplygroup/{group.pk}/history/",
        "/admin/vending/auditevent/",
    ]:
        page = staff_client.get(url).content.decode().lower()
        assert TYPED_KEY not in page, url
        assert TYPED_KEY[:16] not in page, url


def test_rejected_vending_key_form_does_not_echo_the_key(staff_client):
    response = staff_client.post(
        "/admin/vending/supplygroup/add/",
        {
            "utility": make_utility().pk,
            "name": "x",
            "sgc": "123458",
            "key_revision": 1,
            "dkga": "02",
            "ea": "07",
            "base_date": 2014,
            "ken": 255,
            "new_vending_key": TYPED_KEY,
        },  # 40 digits for a DKGA02 group
    )
    page = response.content.decode()
    assert response.status_code == 200 and "16 hexadecimal digits" in page
    assert TYPED_KEY not in page.lower()


def test_vending_key_never_reaches_a_log(staff_client, caplog):
    caplog.set_level(logging.DEBUG)
    group = _add_group_through_admin(staff_client, make_utility())
    logging.getLogger("koronto.test").info("group %r saved", group)
    text = caplog.text.lower() + repr(group).lower() + str(group).lower()
    assert TYPED_KEY not in text and TYPED_KEY[:16] not in text


def test_key_blob_does_not_decrypt_under_another_identity():
    group = make_supply_group(dkga="02")
    other = make_supply_group(dkga="02")
    other.vending_key_encrypted = group.vending_key_encrypted
    with pytest.raises(ValueError):
        other.vending_key()


def test_healthz_ok(client):
    from django.utils import timezone

    from vending.heartbeat import heartbeat_write

    heartbeat_write(hostname="celery@test", now=timezone.now(), started=True)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok", "workers": "ok"}
    assert response.json()["workers"]["alive"] == 1


def test_healthz_503_when_the_cache_is_down(client, monkeypatch):
    from django.core.cache.backends.redis import RedisCache

    from vending.views import health

    # A real cache client aimed at a port where nothing listens.
    monkeypatch.setattr(health, "cache", RedisCache("redis://127.0.0.1:1/0", {}))
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded" and body["checks"]["cache"].startswith("down")
    assert body["checks"]["database"] == "ok"


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_mode_refuses_to_start_without_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "VENDING_KEY_ENCRYPTION_KEY")}
    env.update(
        {
            "KORONTO_ENV": "production",
            "VENDING_KEY_ENCRYPTION_KEY": "x" * 40,
            "WEBHOOK_SECRET": "w" * 30,
            "ALLOWED_HOSTS": "example.org",
        }
    )
    result = _manage("check", env=env)
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr


def test_production_mode_refuses_to_start_without_the_vending_key_encryption_key():
    env = {k: v for k, v in os.environ.items() if k != "VENDING_KEY_ENCRYPTION_KEY"}
    env.update(
        {
            "KORONTO_ENV": "production",
            "SECRET_KEY": "s" * 60,
            "WEBHOOK_SECRET": "w" * 30,
            "ALLOWED_HOSTS": "example.org",
        }
    )
    result = _manage("check", env=env)
    assert result.returncode != 0 and "VENDING_KEY_ENCRYPTION_KEY is not set" in result.stderr


def test_check_deploy_is_clean_in_production_mode():
    env = dict(os.environ)
    env.update(
        {
            "KORONTO_ENV": "production",
            "SECRET_KEY": "k9" * 30 + "-Zq",
            "VENDING_KEY_ENCRYPTION_KEY": "v" * 40,
            "WEBHOOK_SECRET": "w" * 30,
            "ALLOWED_HOSTS": "example.org",
        }
    )
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_migrations_are_complete():
    result = _manage("makemigrations", "--check", "--dry-run", env=dict(os.environ))
    assert result.returncode == 0, result.stdout + result.stderr


def _dev_settings(var_dir, **extra: str) -> list[str]:
    """SECRET_KEY, VENDING_KEY_ENCRYPTION_KEY, WEBHOOK_SECRET as a fresh development process sees them."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "VENDING_KEY_ENCRYPTION_KEY", "WEBHOOK_SECRET", "KORONTO_ENV")
    }
    env.update({"KORONTO_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "config.settings", **extra})
    code = "from django.conf import settings as s; print(s.SECRET_KEY, s.VENDING_KEY_ENCRYPTION_KEY, s.WEBHOOK_SECRET)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return result.stdout.split()


def test_development_secrets_are_made_once_per_checkout_and_kept_private(tmp_path):
    first = _dev_settings(tmp_path)
    assert len(first) == 3 and len(set(first)) == 3 and all(len(v) >= 40 for v in first)
    secrets_file = tmp_path / "dev-secrets.env"
    assert secrets_file.stat().st_mode & 0o777 == 0o600
    kept = secrets_file.read_text()
    # The next process reads the other two back from the file (not made again); a variable set in the
    # environment wins over the file, which keeps its own value.
    assert _dev_settings(tmp_path, WEBHOOK_SECRET="from-the-environment") == [*first[:2], "from-the-environment"]
    assert secrets_file.read_text() == kept
