"""Refunds as records of their own: how the money went back (M-Pesa reversal, a provider's cancel or
reversal, or by hand) and the provider's receipt, so "refunded" means the money is back, not asked for."""

from django.conf import settings
from django.db import models

from vending.models.choices import Currency
from vending.models.purchases import Payment, Purchase


class Refund(models.Model):
    class Method(models.TextChoices):
        MPESA_REVERSAL = "mpesa_reversal", "M-Pesa reversal (Daraja)"
        PROVIDER_API = "provider_api", "Provider cancel / reversal"
        MANUAL = "manual", "By hand (receipt recorded by staff)"

    class State(models.TextChoices):
        REQUESTED = "requested", "Requested, waiting for the provider's result"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    purchase = models.ForeignKey(Purchase, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    method = models.CharField(max_length=16, choices=Method.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.REQUESTED)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=4, choices=Currency.choices)
    # Daraja: the ConversationID / OriginatorConversationID the result callback names.
    provider_reference = models.CharField(max_length=64, blank=True, db_index=True)
    originator_reference = models.CharField(max_length=64, blank=True)
    receipt = models.CharField(max_length=64, blank=True, help_text="The provider's receipt for the money sent back.")
    message = models.CharField(max_length=255, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"refund {self.currency} {self.amount} of {self.purchase_id} ({self.state})"
