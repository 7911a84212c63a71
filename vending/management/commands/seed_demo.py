"""python manage.py seed_demo: an idempotent demo data set.

Two utilities: a Kenyan one selling in KES to DKGA02/EA07 meters (one of them still on base date
1993 with a rollover key change pending), and a Somali one selling in USD to DKGA04/EA11 meters.
Vending keys are generated at random on first run and stored encrypted; nothing secret is in the repo.
"""

import secrets
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from vending.models import Meter, MeterDebt, SupplyGroup, Tariff, TariffBlock, Utility
from vending.services.customers import customer_get_or_create, customer_save_meter, meter_register
from vending.services.keys import supply_group_set_vending_key

KENYA_METERS = [
    ("04123456784", "Wanjiku Home", "Kilimani, Nairobi", 2014),
    ("04123456792", "Otieno Shop", "Gikomba Market, Nairobi", 2014),
    ("04123456800", "Amina Flat 3B", "South C, Nairobi", 2014),
    ("47500150231", "Kamau Farm", "Limuru", 1993),
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
        kenya = self._kenya()
        somalia = self._somalia()
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

    def _kenya(self) -> Utility:
        utility, _ = Utility.objects.get_or_create(
            name="Nairobi Demo Power", defaults={"country": "KE", "currency": "KES", "sms_sender_id": "KORONTO"}
        )
        sg_1993 = self._supply_group(
            utility, sgc="600675", key_revision=1, name="Nairobi legacy (1993)", dkga="02", ea="07", base_date=1993
        )
        sg_2014 = self._supply_group(
            utility, sgc="600675", key_revision=2, name="Nairobi", dkga="02", ea="07", base_date=2014
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
        for drn, name, address, base_date in KENYA_METERS:
            group = sg_1993 if base_date == 1993 else sg_2014
            meter = meter_register(drn=drn, supply_group=group, tariff=tariff, label_name=name, label_address=address)
            if base_date == 1993 and meter.supply_group_id == sg_1993.pk and not meter.has_pending_key_change:
                # Past the 2024 rollover: its next vend must carry the key change to base date 2014.
                meter.pending_supply_group = sg_2014
                meter.pending_key_revision = 2
                meter.pending_base_date = 2014
                meter.save()
        return utility

    def _somalia(self) -> Utility:
        utility, _ = Utility.objects.get_or_create(
            name="Mogadishu Demo Electric", defaults={"country": "SO", "currency": "USD", "sms_sender_id": "KORONTO"}
        )
        group = self._supply_group(
            utility, sgc="252001", key_revision=1, name="Mogadishu", dkga="04", ea="11", base_date=2014
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
