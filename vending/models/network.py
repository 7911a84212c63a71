"""Utilities, their supply groups (with the encrypted vending key) and tariffs."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from vending.crypto import decrypt_secret, encrypt_secret
from vending.models.choices import (
    BaseDate,
    Currency,
    EncryptionAlgorithm,
    KeyGenerationAlgorithm,
    base_date_for_new_rows,
)

# Keyed by the DKGA code as stored and typed ("02", "04"); the choices are those strings.
VENDING_KEY_HEX_LENGTH: dict[str, int] = {KeyGenerationAlgorithm.DKGA02: 16, KeyGenerationAlgorithm.DKGA04: 40}


class Utility(models.Model):
    name = models.CharField(max_length=120, unique=True)
    country = models.CharField(max_length=2, help_text="ISO 3166 country code, e.g. KE or SO.")
    currency = models.CharField(max_length=4, choices=Currency.choices)
    sms_sender_id = models.CharField(max_length=11, blank=True)
    support_phone = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "utilities"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SupplyGroup(models.Model):
    """One supply group code at one key revision: the vending key that meters in it derive from."""

    utility = models.ForeignKey(Utility, on_delete=models.PROTECT, related_name="supply_groups")
    name = models.CharField(max_length=120)
    sgc = models.CharField(
        "supply group code",
        max_length=6,
        validators=[RegexValidator(r"^\d{6}$", "A supply group code is exactly 6 digits.")],
    )
    key_revision = models.PositiveSmallIntegerField(
        "key revision number (KRN)", validators=[MinValueValidator(1), MaxValueValidator(9)]
    )
    dkga = models.CharField("key generation algorithm", max_length=2, choices=KeyGenerationAlgorithm.choices)
    ea = models.CharField("encryption algorithm", max_length=2, choices=EncryptionAlgorithm.choices)
    base_date = models.PositiveSmallIntegerField(choices=BaseDate.choices, default=base_date_for_new_rows)
    ken = models.PositiveSmallIntegerField("key expiry number (KEN)", default=255, validators=[MaxValueValidator(255)])
    # AES-GCM blob (vending.crypto); never shown again once saved, never logged.
    vending_key_encrypted = models.BinaryField(editable=False, null=True)
    vending_key_set_at = models.DateTimeField(null=True, editable=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["utility__name", "sgc", "key_revision"]
        constraints = [
            models.UniqueConstraint(fields=["sgc", "key_revision"], name="unique_sgc_key_revision"),
        ]

    def __str__(self) -> str:
        return f"{self.sgc} KRN {self.key_revision} ({self.name})"

    def __repr__(self) -> str:
        return f"<SupplyGroup {self.pk} sgc={self.sgc} krn={self.key_revision}>"

    def _key_context(self) -> str:
        return f"supply-group:{self.sgc}:{self.key_revision}:{self.dkga}"

    @property
    def has_vending_key(self) -> bool:
        return bool(self.vending_key_encrypted)

    def set_vending_key(self, key: bytes) -> None:
        """Encrypt and keep `key`; the caller saves the row (services do, with an audit event)."""
        self.vending_key_encrypted = encrypt_secret(key, context=self._key_context())

    def vending_key(self) -> bytes:
        if not self.vending_key_encrypted:
            raise ValueError(f"supply group {self.sgc} KRN {self.key_revision} has no vending key yet")
        # bytes(): PostgreSQL hands a BinaryField back as a memoryview.
        return decrypt_secret(bytes(self.vending_key_encrypted), context=self._key_context())


class Tariff(models.Model):
    """Money → energy for a group of meters: flat or increasing blocks per calendar month."""

    class Kind(models.TextChoices):
        FLAT = "flat", "Flat price per kWh"
        BLOCKS = "blocks", "Increasing blocks per calendar month"

    utility = models.ForeignKey(Utility, on_delete=models.PROTECT, related_name="tariffs")
    name = models.CharField(max_length=120)
    currency = models.CharField(max_length=4, choices=Currency.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FLAT)
    price_per_kwh = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True, help_text="Flat tariffs only."
    )
    vat_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    fixed_monthly_charge = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Taken from the first purchase of each calendar month.",
    )
    debt_recovery_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Share of each purchase (after the fixed charge, before VAT) that repays a meter's debt.",
    )
    min_purchase = models.DecimalField(max_digits=12, decimal_places=2)
    max_purchase = models.DecimalField(max_digits=12, decimal_places=2)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["utility__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_purchase__gt=0) & models.Q(max_purchase__gte=models.F("min_purchase")),
                name="tariff_purchase_range_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class TariffBlock(models.Model):
    """One step of a block tariff: energy up to `up_to_kwh` this month costs `price_per_kwh`."""

    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="blocks")
    up_to_kwh = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text="Empty for the last, open block."
    )
    price_per_kwh = models.DecimalField(max_digits=12, decimal_places=4)

    class Meta:
        ordering = ["tariff", models.F("up_to_kwh").asc(nulls_last=True)]

    def __str__(self) -> str:
        return f"≤ {self.up_to_kwh or '∞'} kWh @ {self.price_per_kwh}"
