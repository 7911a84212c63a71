"""Meters, their pending key changes and their debts."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from vending.meter_numbers import validate_drn
from vending.models.choices import BaseDate, Currency, KeyType, base_date_for_new_rows
from vending.models.network import SupplyGroup, Tariff


class Meter(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        BLOCKED = "blocked", "Blocked"
        DECOMMISSIONED = "decommissioned", "Decommissioned"

    drn = models.CharField(
        "meter number (DRN)",
        max_length=13,
        unique=True,
        validators=[validate_drn],
        help_text="The 11- or 13-digit number printed on the meter.",
    )
    pan = models.CharField("MeterPAN", max_length=18, unique=True, editable=False)
    supply_group = models.ForeignKey(SupplyGroup, on_delete=models.PROTECT, related_name="meters")
    tariff = models.ForeignKey(Tariff, on_delete=models.PROTECT, related_name="meters")
    tariff_index = models.PositiveSmallIntegerField(default=1, validators=[MaxValueValidator(99)])
    key_type = models.PositiveSmallIntegerField(choices=KeyType.choices, default=KeyType.DUTK)
    key_revision = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(9)])
    base_date = models.PositiveSmallIntegerField(choices=BaseDate.choices, default=base_date_for_new_rows)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    label_name = models.CharField("customer-facing name", max_length=80)
    label_address = models.CharField("address", max_length=160, blank=True)
    # The highest TID issued to this meter: the next token takes max(now, last_tid + 1).
    last_tid = models.PositiveIntegerField(null=True, blank=True, editable=False)

    # A key change the next vend must carry first (all four null: none pending).
    pending_supply_group = models.ForeignKey(
        SupplyGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pending_tariff_index = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(99)])
    pending_key_revision = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(9)]
    )
    pending_base_date = models.PositiveSmallIntegerField(choices=BaseDate.choices, null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["drn"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.drn} {self.label_name}"

    @property
    def has_pending_key_change(self) -> bool:
        return any(
            value is not None
            for value in (
                self.pending_supply_group_id,
                self.pending_tariff_index,
                self.pending_key_revision,
                self.pending_base_date,
            )
        )


class MeterDebt(models.Model):
    """Arrears recovered as a percentage of each purchase (the tariff's debt-recovery %)."""

    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="debts")
    description = models.CharField(max_length=160)
    currency = models.CharField(max_length=4, choices=Currency.choices)
    original_amount = models.DecimalField(max_digits=12, decimal_places=2)
    balance = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["meter", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=Decimal("0")) & models.Q(balance__lte=models.F("original_amount")),
                name="meter_debt_balance_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meter.drn}: {self.balance} {self.currency}"
