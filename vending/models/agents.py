"""Agents who sell tokens through the partner API: their terminals, API keys, float ledger and sales.

The float is money, so it lives here in the core: a top-up, a sale and a reversal are each one
`FloatEntry`, and an agent's balance is the sum of its entries (every entry also carries the running
balance, written under a lock on the agent's row, so reading the balance is one indexed row).
"""

import uuid
from decimal import Decimal

from django.db import models

from vending.models.choices import Currency
from vending.models.network import Utility
from vending.models.purchases import Purchase
from vending.models.tokens import Token

# What a float purchase carries in Purchase.wallet and Payment.provider: declared once, here.
FLOAT_WALLET = "float"
FLOAT_PROVIDER = "agent_float"


class ApiScope(models.TextChoices):
    VEND = "vend", "Vend (meters, quotes, purchases, confirmations, faults)"
    REPRINT = "reprint", "Reprint (read a purchase again)"
    REVERSE = "reverse", "Reverse a purchase"
    STATEMENT = "statement", "Read the float statement"


class Agent(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    name = models.CharField(max_length=120, unique=True)
    currency = models.CharField(max_length=4, choices=Currency.choices)
    credit_limit = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text="How far below zero the float may go (0: prepaid only).",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    contact_phone = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(credit_limit__gte=0), name="agent_credit_limit_not_negative"),
        ]
        permissions = [
            ("set_credit_limit", "Set an agent's credit limit and commission rules"),
            ("suspend_agent", "Suspend or reactivate an agent"),
        ]

    def __str__(self) -> str:
        return self.name


class AgentTerminal(models.Model):
    """A till, POS or integration of one agent; API keys belong to a terminal, so every call names one."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="terminals")
    name = models.CharField(max_length=60)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agent", "name"]
        constraints = [models.UniqueConstraint(fields=["agent", "name"], name="unique_terminal_name_per_agent")]

    def __str__(self) -> str:
        return f"{self.agent.name} / {self.name}"


class ApiKey(models.Model):
    """Only a hash of the key is kept; the key itself is shown once, when it is made.

    The key is 32 random bytes, so a plain SHA-256 is enough (a slow password hash protects guessable
    secrets and would cost every API call milliseconds of CPU). `prefix` lets staff tell keys apart.
    """

    terminal = models.ForeignKey(AgentTerminal, on_delete=models.PROTECT, related_name="api_keys")
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list, help_text="Any of: vend, reprint, reverse, statement.")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["terminal", "-created_at"]
        verbose_name = "API key"
        permissions = [("issue_api_key", "Issue and revoke terminals' API keys")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.terminal})"


class CommissionRule(models.Model):
    """What the agent earns per sale for one utility: a percentage of the amount, or an amount per kWh."""

    class Basis(models.TextChoices):
        PERCENT = "percent", "Percent of the amount"
        PER_KWH = "per_kwh", "Amount per kWh"

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="commission_rules")
    utility = models.ForeignKey(Utility, on_delete=models.PROTECT, related_name="+")
    basis = models.CharField(max_length=8, choices=Basis.choices)
    rate = models.DecimalField(max_digits=10, decimal_places=4)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent", "utility"], name="one_commission_rule_per_agent_utility"),
            models.CheckConstraint(condition=models.Q(rate__gte=0), name="commission_rate_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.agent} {self.utility}: {self.rate} {self.basis}"


class AgentSale(models.Model):
    """One purchase request of an agent, keyed by the client's id: the idempotency record.

    (agent, client_id) is unique; `fingerprint` is a hash of the request's normalised body, and
    `response_body` the exact JSON the first request answered, so a retry gets the same bytes.
    """

    class Method(models.TextChoices):
        FLOAT = "float", "Agent float"
        MOBILE_MONEY = "mobile_money", "Mobile money"

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="sales")
    terminal = models.ForeignKey(AgentTerminal, on_delete=models.PROTECT, related_name="sales")
    client_id = models.UUIDField()
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=14, choices=Method.choices)
    purchase = models.OneToOneField(Purchase, on_delete=models.PROTECT, related_name="agent_sale")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=4, choices=Currency.choices)
    commission = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    status_code = models.PositiveSmallIntegerField()
    response_body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "client_id"], name="unique_client_id_per_agent"),
        ]
        indexes = [models.Index(fields=["agent", "created_at"])]

    def __str__(self) -> str:
        return f"{self.agent} {self.client_id}"


class FloatEntry(models.Model):
    class Kind(models.TextChoices):
        TOPUP = "topup", "Top-up"
        SALE = "sale", "Sale"
        REVERSAL = "reversal", "Reversal (refund of a sale)"
        ADJUSTMENT = "adjustment", "Adjustment"

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="float_entries")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="Positive in, negative out.")
    balance_after = models.DecimalField(max_digits=14, decimal_places=2)
    sale = models.ForeignKey(AgentSale, on_delete=models.PROTECT, null=True, blank=True, related_name="entries")
    reference = models.CharField(max_length=80, blank=True, help_text="The bank or M-Pesa reference of a top-up.")
    created_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agent", "pk"]
        verbose_name_plural = "float entries"
        permissions = [("topup_float", "Top up an agent's float")]
        indexes = [models.Index(fields=["agent", "-id"]), models.Index(fields=["agent", "created_at"])]
        constraints = [
            # A sale is debited once and reversed once, whatever the retries.
            models.UniqueConstraint(
                fields=["sale", "kind"],
                condition=models.Q(sale__isnull=False),
                name="one_float_entry_per_sale_and_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} {self.kind} {self.amount}"


class TokenVoid(models.Model):
    """A token taken back by a reversal. If a meter later accepts it, that is a revenue-protection finding."""

    token = models.OneToOneField(Token, on_delete=models.PROTECT, related_name="void")
    sale = models.ForeignKey(AgentSale, on_delete=models.PROTECT, related_name="voids")
    reason = models.CharField(max_length=255)
    voided_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"void of token {self.token_id}"


class RevenueFinding(models.Model):
    """A voided token that a meter accepted anyway: energy given away, for staff to follow up."""

    token_void = models.ForeignKey(TokenVoid, on_delete=models.PROTECT, related_name="findings")
    meter = models.ForeignKey("vending.Meter", on_delete=models.PROTECT, related_name="+")
    found_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=40, help_text="Where the acceptance was seen, e.g. virtual_meter.")

    class Meta:
        ordering = ["-found_at"]

    def __str__(self) -> str:
        return f"voided token accepted by {self.meter_id}"


class FaultReport(models.Model):
    """A customer-reported problem an agent passes on (token rejected, meter message) for the staff queue."""

    class Kind(models.TextChoices):
        TOKEN_REJECTED = "token_rejected", "Token rejected by the meter"
        METER_MESSAGE = "meter_message", "Meter shows a message"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="faults")
    terminal = models.ForeignKey(AgentTerminal, on_delete=models.PROTECT, related_name="faults")
    reference = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    meter_number = models.CharField(max_length=13)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    meter_message = models.CharField(max_length=80, blank=True)
    purchase = models.ForeignKey(Purchase, on_delete=models.PROTECT, null=True, blank=True, related_name="faults")
    description = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.meter_number}"
