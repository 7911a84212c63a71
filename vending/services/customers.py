"""Registering meters, customers, their saved meters and language."""

from django.contrib.auth.models import User
from django.db import transaction

from vending.exceptions import VendingError
from vending.meter_numbers import clean_drn, derive_pan
from vending.models import Customer, CustomerMeter, Meter, SupplyGroup, Tariff
from vending.services.audit import audit_record
from vending.services.virtual_meters import virtual_meter_load


def meter_register(
    *,
    drn: str,
    supply_group: SupplyGroup,
    tariff: Tariff,
    label_name: str,
    label_address: str = "",
    tariff_index: int = 1,
    key_type: int = 2,
    base_date: int | None = None,
    actor: User | None = None,
) -> Meter:
    """Create a meter (or return the existing one with the same DRN, unchanged)."""
    drn = clean_drn(drn)
    with transaction.atomic():
        meter, created = Meter.objects.get_or_create(
            drn=drn,
            defaults={
                "pan": derive_pan(drn),
                "supply_group": supply_group,
                "tariff": tariff,
                "label_name": label_name,
                "label_address": label_address,
                "tariff_index": tariff_index,
                "key_type": key_type,
                "key_revision": supply_group.key_revision,
                "base_date": base_date if base_date is not None else supply_group.base_date,
            },
        )
        if created:
            audit_record(action="meter.registered", obj=meter, actor=actor, data={"drn": drn})
            if supply_group.has_vending_key:
                # The simulated meter starts in the configuration the meter leaves the factory with, so a
                # key change issued later has to be typed in, just as on the real meter.
                virtual_meter_load(meter=meter)
    return meter


def customer_get_or_create(*, phone: str, language: str | None = None) -> Customer:
    customer, created = Customer.objects.get_or_create(phone=phone, defaults={"language": language or "en"})
    if created:
        audit_record(action="customer.created", obj=customer, actor_label=phone)
    return customer


class TooManySavedMeters(VendingError):
    code = "too_many_saved_meters"


MAX_SAVED_METERS = 20


def customer_save_meter(*, customer: Customer, meter: Meter, alias: str = "") -> CustomerMeter:
    """Save `meter` for `customer` under `alias` (renames it when already saved)."""
    alias = alias.strip()[:30]
    with transaction.atomic():
        saved = CustomerMeter.objects.filter(customer=customer, meter=meter).first()
        if saved is None:
            if CustomerMeter.objects.filter(customer=customer).count() >= MAX_SAVED_METERS:
                raise TooManySavedMeters(f"You can save at most {MAX_SAVED_METERS} meters.")
            saved = CustomerMeter.objects.create(customer=customer, meter=meter, alias=alias)
            audit_record(action="customer.meter_saved", obj=saved, actor_label=customer.phone)
        elif alias and alias != saved.alias:
            before = saved.alias
            saved.alias = alias
            saved.save(update_fields=["alias"])
            audit_record(
                action="customer.meter_renamed",
                obj=saved,
                actor_label=customer.phone,
                before={"alias": before},
                after={"alias": alias},
            )
    return saved


def customer_remove_meter(*, customer: Customer, meter: Meter) -> bool:
    deleted, _ = CustomerMeter.objects.filter(customer=customer, meter=meter).delete()
    if deleted:
        audit_record(action="customer.meter_removed", obj=customer, actor_label=customer.phone, data={"drn": meter.drn})
    return bool(deleted)


def customer_set_language(*, customer: Customer, language: str) -> Customer:
    if language not in ("en", "so", "sw"):
        raise VendingError(f"unknown language {language!r}")
    if customer.language != language:
        before = customer.language
        customer.language = language
        customer.save(update_fields=["language"])
        audit_record(
            action="customer.language_set",
            obj=customer,
            actor_label=customer.phone,
            before={"language": before},
            after={"language": language},
        )
    return customer
