"""Issued STS tokens: credit, key change and engineering."""

from django.db import models
from django.utils import timezone

from vending.models.meters import Meter
from vending.models.purchases import Purchase


class Token(models.Model):
    class Kind(models.TextChoices):
        CREDIT = "credit", "Credit"
        KEY_CHANGE = "key_change", "Key change"
        ENGINEERING = "engineering", "Engineering"
        FREE = "free", "Free / manual credit"

    purchase = models.ForeignKey(Purchase, on_delete=models.PROTECT, null=True, blank=True, related_name="tokens")
    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="tokens")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    token_class = models.PositiveSmallIntegerField("class")
    subclass = models.PositiveSmallIntegerField()
    sequence = models.PositiveSmallIntegerField(default=0, help_text="Order of entry within one issue.")
    tid = models.PositiveIntegerField("TID", null=True, blank=True, help_text="Key change tokens carry none.")
    units = models.DecimalField("units (kWh)", max_digits=12, decimal_places=1, null=True, blank=True)
    digits = models.CharField(max_length=20)
    reason = models.CharField(max_length=255, blank=True)
    issued_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # Set by the service from its `now` (the month of a purchase or token matters to the tariff).
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["meter", "tid"], condition=models.Q(tid__isnull=False), name="unique_meter_tid"
            ),
            models.UniqueConstraint(
                fields=["purchase"],
                condition=models.Q(kind="credit", purchase__isnull=False),
                name="one_credit_token_per_purchase",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} token for {self.meter.drn} (TID {self.tid})"

    @property
    def grouped(self) -> str:
        """The 20 digits in five groups of four, as a customer types them."""
        return " ".join(self.digits[i : i + 4] for i in range(0, 20, 4))
