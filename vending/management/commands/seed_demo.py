"""python manage.py seed_demo: an idempotent demo data set.

Two utilities: a Kenyan one selling in KES to DKGA02/EA07 meters (one of them still on the base date
before today's, 1993 until base 2014 runs out in November 2045, with a rollover key change pending), and a
Somali one selling in USD to DKGA04/EA11 meters. The meters are on the base date that numbers tokens on
the day of seeding (vending.sts.tid.base_date_in_use): a demo seeded on base 2014 after 2045 could sell nothing.
Vending keys are generated at random on first run and stored encrypted; nothing secret is in the repo.
"""

import secrets
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from vending.models import Meter, MeterDebt, SupplyGroup, Tariff, TariffBlock, Utility
from vending.services.customers import customer_get_or_create, customer_save_meter, meter_register
from vending.services.keys import supply_group_set_vending_key
from vending.sts.tid import base_date_before, base_date_in_use

# The last field: a legacy meter, on the base date before today's with the rollover pending.
KENYA_METERS = [
    ("04123456784", "Wanjiku Home", "Kilimani, Nairobi", False),
    ("04123456792", "Otieno Shop", "Gikomba Market, Nairobi", False),
    ("04123456800", "Amina Flat 3B", "South C, Nairobi", False),
    ("47500150231", "Kamau Farm", "Limuru", True),
]
SOMALI_METERS = [
    ("0100000000016", "Hodan Family", "Hodan District, Mogadishu"),
    ("0100000000024", "Bakaara Shop 12", "Bakaara Market, Mogadishu"),
    ("0100000000032", "Warta Nabadda Clinic", "Warta Nabadda, Mogadishu"),
]
CUSTOMERS = [
    ("+254711000111", "en", [("04123456784", "Home"), ("04123456792", "Shop"), ("47500150231", "Farm")]),
    ("+254722000222", "sw", [("04123456800", "Nyumbani")]),
    ("+252611000111", "so", [("0100000000016", "Guriga"), ("0100000000024", "Dukaanka")]),
    ("+252631000222", "en", [("0100000000032", "Clinic")]),
]
DEMO_STAFF_USERNAME = "demo-admin"


class Command(BaseCommand):
    help = "Create (or top up) the demo utilities, tariffs, meters and customers. Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("--staff-password", help="Password for the demo-admin superuser.")

    @transaction.atomic
    def handle(self, *args, **options):
        base_date = base_date_in_use(timezone.now())
        kenya = self._kenya(base_date)
        somalia = self._somalia(base_date)
        for phone, language, saved in CUSTOMERS:
            customer = customer_get_or_create(phone=phone, language=language)
            for drn, alias in saved:
                customer_save_meter(customer=customer, meter=Meter.objects.get(drn=drn), alias=alias)
        self._staff(options.get("staff_password"))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {kenya.name} and {somalia.name}, "
                f"{Meter.objects.count()} meters, {len(CUSTOMERS)} customers."
            )
        )

    def _supply_group(self, utility: Utility, **fields) -> SupplyGroup:
        group, _ = SupplyGroup.objects.get_or_create(
            sgc=fields.pop("sgc"),
            key_revision=fields.pop("key_revision"),
            defaults={"utility": utility, **fields},
        )
        if not group.has_vending_key:
            length = 8 if group.dkga == "02" else 20
            supply_group_set_vending_key(supply_group=group, key=secrets.token_bytes(length), reason="seed_demo")
        return group

    def _kenya(self, base_date: int) -> Utility:
        utility, _ = Utility.objects.get_or_create(
            name="Nairobi Demo Power", defaults={"country": "KE", "currency": "KES", "sms_sender_id": "KORONTO"}
        )
        legacy_base = base_date_before(base_date) or base_date
        legacy = self._supply_group(
            utility,
            sgc="600675",
            key_revision=1,
            name=f"Nairobi legacy ({legacy_base})",
            dkga="02",
            ea="07",
            base_date=legacy_base,
        )
        current = self._supply_group(
            utility, sgc="600675", key_revision=2, name="Nairobi", dkga="02", ea="07", base_date=base_date
        )
        tariff, created = Tariff.objects.get_or_create(
            utility=utility,
            name="Domestic (blocks)",
            defaults={
                "currency": "KES",
                "kind": Tariff.Kind.BLOCKS,
                "vat_percent": Decimal("16"),
                "fixed_monthly_charge": Decimal("0"),
                "debt_recovery_percent": Decimal("0"),
                "min_purchase": Decimal("20"),
                "max_purchase": Decimal("35000"),
            },
        )
        if created:
            for up_to, price in [("30", "12.2300"), ("100", "16.5400"), (None, "19.0800")]:
                TariffBlock.objects.create(
                    tariff=tariff, up_to_kwh=Decimal(up_to) if up_to else None, price_per_kwh=Decimal(price)
                )
        for drn, name, address, is_legacy in KENYA_METERS:
            group = legacy if is_legacy else current
            meter = meter_register(drn=drn, supply_group=group, tariff=tariff, label_name=name, label_address=address)
            if is_legacy and meter.supply_group_id == legacy.pk and not meter.has_pending_key_change:
                # Past its base date's rollover: its next vend must carry the key change to today's base date.
                meter.pending_supply_group = current
                meter.pending_key_revision = 2
                meter.pending_base_date = current.base_date
                meter.save()
        return utility

    def _somalia(self, base_date: int) -> Utility:
        utility, _ = Utility.objects.get_or_create(
            name="Mogadishu Demo Electric", defaults={"country": "SO", "currency": "USD", "sms_sender_id": "KORONTO"}
        )
        group = self._supply_group(
            utility, sgc="252001", key_revision=1, name="Mogadishu", dkga="04", ea="11", base_date=base_date
        )
        tariff, _ = Tariff.objects.get_or_create(
            utility=utility,
            name="Residential (flat)",
            defaults={
                "currency": "USD",
                "kind": Tariff.Kind.FLAT,
                "price_per_kwh": Decimal("0.9500"),
                "vat_percent": Decimal("5"),
                "fixed_monthly_charge": Decimal("2.00"),
                "debt_recovery_percent": Decimal("10"),
                "min_purchase": Decimal("1"),
                "max_purchase": Decimal("500"),
            },
        )
        for drn, name, address in SOMALI_METERS:
            meter_register(drn=drn, supply_group=group, tariff=tariff, label_name=name, label_address=address)
        debtor = Meter.objects.get(drn=SOMALI_METERS[1][0])
        MeterDebt.objects.get_or_create(
            meter=debtor,
            description="Arrears from the postpaid account",
            defaults={"currency": "USD", "original_amount": Decimal("20.00"), "balance": Decimal("20.00")},
        )
        return utility

    def _staff(self, password: str | None) -> None:
        user_model = get_user_model()
        user = user_model.objects.filter(username=DEMO_STAFF_USERNAME).first()
        if user is None:
            password = password or secrets.token_urlsafe(9)
            user_model.objects.create_superuser(DEMO_STAFF_USERNAME, "", password)
            self.stdout.write(f"Staff login: {DEMO_STAFF_USERNAME} / {password}")
        elif password:
            user.set_password(password)
            user.save(update_fields=["password"])
            self.stdout.write(f"Staff login: {DEMO_STAFF_USERNAME} / {password}")
        else:
            self.stdout.write(f"Staff login: {DEMO_STAFF_USERNAME} (password unchanged)")
