"""USSD test set-up: a demo-like world, a cache namespace per test, a controlled clock and a phone that
talks to the endpoint exactly as Africa's Talking does (form POSTs, cumulative `text`, CON/END replies)."""

import copy
import itertools
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings

from tests.factories import (
    current_base_date,
    make_block_tariff,
    make_customer,
    make_flat_tariff,
    make_meter,
    make_supply_group,
)
from vending.models import Meter, MeterDebt, Utility
from vending.services.customers import customer_save_meter

SERVICE_CODE = "*384*44135#"
_sessions = itertools.count(1)


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def to_start_of_hour(self) -> None:
        """The rate limits count per clock hour (fixed windows, vending/ratelimit.py): a test of a limit puts
        its hits inside one hour, wherever the date under test (tests/conftest.py DATES) has put the clock."""
        self.now = self.now.replace(minute=0, second=0, microsecond=0)


class Phone:
    """A handset in a USSD session: dial() opens one, send() answers the current screen."""

    def __init__(self, client, number: str, *, network: str = "63902", service_code: str = SERVICE_CODE) -> None:
        self.client, self.number, self.network, self.service_code = client, number, network, service_code
        self.session_id = ""
        self.text = ""
        self.hops = 0
        self.last = ""

    @property
    def url(self) -> str:
        return f"/hooks/at/ussd/{django_settings.WEBHOOK_SECRET}/"

    def dial(self) -> str:
        self.session_id = f"ATUid_{uuid.uuid4().hex[:12]}_{next(_sessions)}"
        self.text, self.hops = "", 0
        return self._post()

    def send(self, answer: str) -> str:
        self.text = answer if self.hops == 1 else f"{self.text}*{answer}"
        return self._post()

    def repeat(self) -> str:
        """Africa's Talking sending the same hop again (a retry after a slow answer)."""
        self.hops -= 1
        return self._post()

    def _post(self) -> str:
        response = self.client.post(
            self.url,
            {
                "sessionId": self.session_id,
                "phoneNumber": self.number,
                "networkCode": self.network,
                "serviceCode": self.service_code,
                "text": self.text,
            },
        )
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        body = response.content.decode()
        assert body.startswith(("CON ", "END "))
        self.hops += 1
        self.last = body
        return body


@pytest.fixture(autouse=True)
def isolated_cache(settings, tmp_path):
    """A key prefix of its own per test: sessions and rate limits never leak between tests or runs.

    The file cache (no REDIS_URL) also gets its own folder with room enough: past MAX_ENTRIES (300 by
    default) it culls a third of its files at random, rate-limit counters included.
    """
    caches = copy.deepcopy(django_settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"t{uuid.uuid4().hex[:10]}"
    if caches["default"]["BACKEND"].endswith("FileBasedCache"):
        caches["default"]["LOCATION"] = str(tmp_path / "cache")
        caches["default"]["OPTIONS"] = {"MAX_ENTRIES": 100_000}
    settings.CACHES = caches


@pytest.fixture
def clock(monkeypatch, wall_clock):
    clock = Clock(wall_clock)  # a dated run (tests/conftest.py) starts the view's clock there too
    monkeypatch.setattr("ussd.views.ussd.now", clock)
    return clock


@pytest.fixture
def world(db, settings):
    """The demo set-up: Kenyan KES block-tariff meters and Somali USD meters, customers with saved meters."""
    settings.USSD_SERVICE_CODES = [SERVICE_CODE]
    kenya = Utility.objects.create(name="Nairobi Demo Power", country="KE", currency="KES")
    ke_group = make_supply_group(kenya, base_date=current_base_date())
    ke_tariff = make_block_tariff(
        kenya,
        [("30", "12.23"), ("100", "16.54"), (None, "19.08")],
        vat_percent=Decimal("16"),
        min_purchase=Decimal("20"),
        max_purchase=Decimal("35000"),
    )
    ke = {}
    for drn, label in [
        ("04123456784", "Wanjiku Home"),
        ("04123456792", "Otieno Shop"),
        ("04123456800", "Amina Flat 3B"),
        ("47500150231", "Kamau Farm"),
    ]:
        ke[drn] = make_meter(supply_group=ke_group, tariff=ke_tariff, drn=drn, label_name=label)
    blocked = make_meter(
        supply_group=ke_group, tariff=ke_tariff, label_name="Closed Kiosk", status=Meter.Status.BLOCKED
    )
    somalia = Utility.objects.create(name="Mogadishu Demo Electric", country="SO", currency="USD")
    so_group = make_supply_group(somalia, dkga="04", ea="11", base_date=current_base_date())
    so_tariff = make_flat_tariff(
        somalia,
        price="0.95",
        currency="USD",
        vat_percent=Decimal("5"),
        fixed_monthly_charge=Decimal("2.00"),
        debt_recovery_percent=Decimal("10"),
        min_purchase=Decimal("1"),
        max_purchase=Decimal("500"),
    )
    so = {}
    for drn, label in [("0100000000016", "Hodan Family"), ("0100000000024", "Bakaara Shop 12")]:
        so[drn] = make_meter(supply_group=so_group, tariff=so_tariff, drn=drn, label_name=label)
    MeterDebt.objects.create(
        meter=so["0100000000024"],
        description="Arrears",
        currency="USD",
        original_amount=Decimal("20.00"),
        balance=Decimal("20.00"),
    )

    wanjiku = make_customer("+254711000111", "en")
    for drn, alias in [("04123456784", "Home"), ("04123456792", "Shop"), ("47500150231", "Farm")]:
        customer_save_meter(customer=wanjiku, meter=ke[drn], alias=alias)
    make_customer("+254722000222", "sw")
    hodan = make_customer("+252611000111", "so")
    for drn, alias in [("0100000000016", "Guriga"), ("0100000000024", "Dukaanka")]:
        customer_save_meter(customer=hodan, meter=so[drn], alias=alias)
    return {"ke": ke, "so": so, "blocked": blocked, "wanjiku": wanjiku, "hodan": hodan}


@pytest.fixture
def phone(client, world, clock):
    """Wanjiku's Safaricom phone (English, three saved meters)."""
    return Phone(client, "+254711000111")


@pytest.fixture
def new_phone(client, world, clock):
    """A Safaricom number koronto has never seen."""
    return Phone(client, "+254712345678")


@pytest.fixture
def somali_phone(client, world, clock):
    """Hodan's Hormuud phone (Somali, two saved USD meters)."""
    return Phone(client, "+252611000111", network="63701")


@pytest.fixture
def swahili_phone(client, world, clock):
    return Phone(client, "+254722000222")
