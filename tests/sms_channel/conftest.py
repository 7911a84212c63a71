"""SMS channel fixtures: a small world of meters and customers, AT's inbound form, eager tasks."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings

from tests.factories import make_flat_tariff, make_meter, make_supply_group, make_utility
from vending.models import Customer, CustomerMeter, Meter, SmsMessage

KE_PHONE = "+254711000111"  # English, saved meters Home and Shop
SW_PHONE = "+254722000222"  # Swahili
SO_PHONE = "+252611000111"  # Somali (Hormuud: EVC Plus), saved meter Guri
NEW_KE_PHONE = "+254712345678"  # nobody yet
NEW_SO_PHONE = "+252612345678"
HOME, SHOP, OFFICE = "04123456784", "04123456792", "47500150231"
GURI = "0100000000016"

_ids = itertools.count(1)


@dataclass
class World:
    home: Meter
    shop: Meter
    office: Meter
    guri: Meter


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    # Rate-limit counters live in the cache: a private in-memory cache per test keeps tests apart
    # without clearing the shared file cache other test runs use.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"sms-channel-{next(_ids)}"}
    }


@pytest.fixture
def eager_tasks(eager):
    """Tasks run inline on commit (the root conftest's `eager`): sandbox payments, console SMS sender."""


@pytest.fixture
def world(db) -> World:
    ke = make_utility("KE", "KES")
    ke_group = make_supply_group(ke)
    kes = make_flat_tariff(ke, price="20")
    so = make_utility("SO", "USD")
    so_group = make_supply_group(so)
    usd = make_flat_tariff(so, price="0.5", min_purchase="1", max_purchase="500")
    world = World(
        home=make_meter(supply_group=ke_group, tariff=kes, drn=HOME, label_name="Amina Home"),
        shop=make_meter(supply_group=ke_group, tariff=kes, drn=SHOP, label_name="Amina Shop"),
        office=make_meter(supply_group=ke_group, tariff=kes, drn=OFFICE, label_name="Office Block"),
        guri=make_meter(supply_group=so_group, tariff=usd, drn=GURI, label_name="Guriga Hodan"),
    )
    ke_customer = Customer.objects.create(phone=KE_PHONE, language="en")
    CustomerMeter.objects.create(customer=ke_customer, meter=world.home, alias="Home")
    CustomerMeter.objects.create(customer=ke_customer, meter=world.shop, alias="Shop")
    Customer.objects.create(phone=SW_PHONE, language="sw")
    so_customer = Customer.objects.create(phone=SO_PHONE, language="so")
    CustomerMeter.objects.create(customer=so_customer, meter=world.guri, alias="Guri")
    return world


class AtGateway:
    """Posts inbound SMS exactly as Africa's Talking does and reads what we sent back."""

    def __init__(self, client, capture) -> None:
        self.client, self.capture = client, capture

    def post(self, form: dict[str, str], secret: str | None = None):
        url = f"/hooks/at/sms/{secret or django_settings.WEBHOOK_SECRET}/"
        with self.capture(execute=True):
            return self.client.post(url, data=urlencode(form), content_type="application/x-www-form-urlencoded")

    def form(self, phone: str, text: str, message_id: str | None = None) -> dict[str, str]:
        return {
            "from": phone,
            "to": django_settings.SMS_SHORTCODE,
            "text": text,
            "date": "2026-03-04 10:30:00",
            "id": message_id or f"ATXid_{next(_ids):08d}",
            "linkId": "SampleLinkId123",
            "networkCode": "63902",
        }

    def send(self, phone: str, text: str, message_id: str | None = None) -> str:
        """Send one SMS; return everything we texted back for it (parts joined), '' for no reply."""
        last = SmsMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        response = self.post(self.form(phone, text, message_id))
        assert response.status_code == 200, response.content
        replies = SmsMessage.objects.filter(direction=SmsMessage.Direction.OUTBOUND, phone=phone, pk__gt=last)
        return "\n".join(r.text for r in replies.order_by("pk"))


@pytest.fixture
def at(client, django_capture_on_commit_callbacks, eager_tasks, world) -> AtGateway:
    return AtGateway(client, django_capture_on_commit_callbacks)
