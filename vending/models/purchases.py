"""A purchase, its payment and every raw callback a provider sent about it."""

from django.db import models
from django.utils import timezone

from vending.models.choices import Channel, Currency, Language
from vending.models.customers import Customer
from vending.models.meters import Meter
from vending.states import PaymentState, PurchaseState
from vending.wallets import wallet_choices


class Purchase(models.Model):
    reference = models.CharField(
        max_length=12, unique=True, help_text="Our short reference: the AccountReference / referenceId."
    )
    idempotency_key = models.CharField(max_length=80, unique=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="purchases")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="purchases")
    payer_phone = models.CharField(max_length=16)
    # A callable: forms and the admin's filter ask the wallet registry each time (vending/wallets.py).
    wallet = models.CharField(max_length=10, choices=wallet_choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=4, choices=Currency.choices)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    state = models.CharField(
        max_length=16, choices=PurchaseState.choices, default=PurchaseState.CREATED, editable=False
    )
    # The quote the customer confirmed (units, charges), as the tariff maths returned it.
    quote = models.JSONField(default=dict, blank=True)
    # The quote's monthly fixed charge again, as a column: "has a paid purchase this month taken it?" is
    # asked by every quote (vending/selectors/quotes.py), in plain SQL.
    fixed_charge = models.DecimalField(max_digits=12, decimal_places=2, default=0, editable=False)
    failure_reason = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # Set by the service from its `now` (the month of a purchase or token matters to the tariff).
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "updated_at"]),
            models.Index(fields=["payer_phone", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="purchase_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.amount} {self.currency} → {self.meter.drn}"


class Payment(models.Model):
    purchase = models.OneToOneField(Purchase, on_delete=models.PROTECT, related_name="payment")
    provider = models.CharField(max_length=16, help_text="daraja, waafipay or sandbox")
    state = models.CharField(
        max_length=16, choices=PaymentState.choices, default=PaymentState.INITIATED, editable=False
    )
    provider_reference = models.CharField(
        max_length=64, blank=True, help_text="Daraja CheckoutRequestID, WaafiPay transactionId, sandbox id."
    )
    receipt = models.CharField(max_length=64, blank=True, help_text="M-Pesa receipt number, if any.")
    amount_requested = models.DecimalField(max_digits=12, decimal_places=2)
    amount_confirmed = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    failure_reason = models.CharField(max_length=40, blank=True)
    provider_message = models.CharField(max_length=255, blank=True)
    flagged = models.BooleanField(default=False, help_text="Needs a person: see the flag reason.")
    flag_reason = models.CharField(max_length=255, blank=True)
    query_count = models.PositiveSmallIntegerField(default=0)
    # Set when a worker starts the push: a second delivery of the push task (or the outbox sweep) finds it
    # set and sends nothing. INITIATED without it means no push was tried: the outbox dispatches it again.
    push_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set by the service from its `now` (the month of a purchase or token matters to the tariff).
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "updated_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~models.Q(provider_reference=""),
                name="unique_provider_reference",
            ),
            models.UniqueConstraint(
                fields=["provider", "receipt"],
                condition=~models.Q(receipt=""),
                name="unique_provider_receipt",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.provider_reference or '(not sent)'} {self.state}"


class ProviderCallback(models.Model):
    """A callback exactly as it arrived; stored before anything else happens (docs/PROTOCOLS.md §6 rule 4)."""

    provider = models.CharField(max_length=16)
    kind = models.CharField(max_length=24, help_text="stk_callback, delivery_report, inbound_sms, …")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="callbacks")
    dedupe_key = models.CharField(max_length=128, unique=True, help_text="Hash of provider, kind and body.")
    headers = models.JSONField(default=dict)
    body = models.TextField()
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    flagged = models.BooleanField(default=False)
    flag_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-received_at"]
        # The outbox sweep looks for callbacks not processed yet: a small index of just those.
        indexes = [
            models.Index(
                fields=["received_at"], condition=models.Q(processed_at__isnull=True), name="callback_unprocessed"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} at {self.received_at:%Y-%m-%d %H:%M:%S}"
