"""Back-office records: key change campaigns, meter imports, provider statements, staff permissions."""

from decimal import Decimal

from django.db import models

from vending.models import Meter, Payment, SupplyGroup
from vending.models.choices import BaseDate


class StaffPermission(models.Model):
    """No table: the home of the staff-action permissions that belong to no single record."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("find_by_number", "Find a customer, meter or payment by any number"),
            ("resend_token", "Resend a token SMS"),
            ("reprint_token", "Reprint (show again) a purchase's tokens"),
            ("refund_purchase", "Reverse or refund a payment"),
            ("issue_free_token", "Issue a manual or free credit token"),
            ("issue_engineering_token", "Issue an engineering token"),
            ("change_meter_key", "Change a meter's key (single or campaign)"),
            ("import_meters", "Import meters from CSV"),
            ("view_reports", "See the sales dashboard and export reports"),
            ("reconcile", "Upload provider statements and resolve mismatches"),
        ]

    def __str__(self) -> str:
        return "staff permissions"


class Dashboard(models.Model):
    """No table: gives the reports dashboard its place on the admin index."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = "sales dashboard"
        verbose_name_plural = "sales dashboard"

    def __str__(self) -> str:
        return "sales dashboard"


class Lookup(models.Model):
    """No table: gives 'find by any number' its place on the admin index."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = "find by number"
        verbose_name_plural = "find by number"

    def __str__(self) -> str:
        return "find by number"


class KeyChangeCampaign(models.Model):
    """Many meters moved to a new supply group / tariff index / base date, in resumable chunks."""

    class Mode(models.TextChoices):
        PRECODE = "precode", "Pre-coded: the next vend carries the key change tokens"
        NOW = "now", "At once: make the tokens now and send them"

    class Delivery(models.TextChoices):
        SMS = "sms", "SMS to the meter's customers"
        NONE = "none", "Keep them for staff (no SMS)"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Finished with failures"

    name = models.CharField(max_length=120)
    reason = models.TextField()
    mode = models.CharField(max_length=8, choices=Mode.choices)
    delivery = models.CharField(max_length=4, choices=Delivery.choices, default=Delivery.SMS)
    target_supply_group = models.ForeignKey(SupplyGroup, on_delete=models.PROTECT, related_name="+")
    target_tariff_index = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty: unchanged.")
    target_base_date = models.PositiveSmallIntegerField(
        choices=BaseDate.choices, null=True, blank=True, help_text="Empty: the target supply group's base date."
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING, editable=False)
    total = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class KeyChangeItem(models.Model):
    """One meter of a campaign; (campaign, meter) is unique, so a meter is changed at most once per campaign."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Changed"
        SKIPPED = "skipped", "Already at the target"
        FAILED = "failed", "Failed"

    campaign = models.ForeignKey(KeyChangeCampaign, on_delete=models.CASCADE, related_name="items")
    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    error = models.CharField(max_length=255, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["campaign", "pk"]
        constraints = [models.UniqueConstraint(fields=["campaign", "meter"], name="one_item_per_meter_per_campaign")]
        indexes = [models.Index(fields=["campaign", "status"])]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.meter_id} {self.status}"


class MeterImport(models.Model):
    """One CSV upload of meters and its per-row report."""

    file_name = models.CharField(max_length=200)
    created_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_count = models.PositiveIntegerField(default=0)
    existing_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # [{"row": 2, "drn": "...", "outcome": "created|exists|error", "message": "..."}]
    report = models.JSONField(default=list)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_count} created, {self.error_count} errors)"


class ReconciliationStatement(models.Model):
    """A provider statement as uploaded, compared with our payments over its period."""

    class Source(models.TextChoices):
        MPESA = "mpesa", "M-Pesa organisation statement"
        WAAFIPAY = "waafipay", "WaafiPay transaction export"

    source = models.CharField(max_length=10, choices=Source.choices)
    file_name = models.CharField(max_length=200)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # SHA-256 of the statement's text (line endings and trailing blanks aside): the same file twice is refused.
    content_hash = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.file_name}"


class ReconciliationLine(models.Model):
    """One outcome of the comparison: a statement row, one of our payments, or both."""

    class Outcome(models.TextChoices):
        MATCHED = "matched", "Matched"
        MISSING_OURS = "missing_ours", "Missing on our side"
        MISSING_THEIRS = "missing_theirs", "Missing on theirs"
        AMOUNT_DIFFERS = "amount_differs", "Amount differs"

    statement = models.ForeignKey(ReconciliationStatement, on_delete=models.CASCADE, related_name="lines")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    their_reference = models.CharField(max_length=64, blank=True, help_text="Receipt / transaction id.")
    account_reference = models.CharField(max_length=64, blank=True)
    amount_theirs = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    amount_ours = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["statement", "outcome", "pk"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} {self.their_reference or self.payment_id}"

    @property
    def difference(self) -> Decimal | None:
        if self.amount_theirs is None or self.amount_ours is None:
            return None
        return self.amount_theirs - self.amount_ours


class ReconciliationResolution(models.Model):
    """How staff settled one mismatch; one per line, written once."""

    class Action(models.TextChoices):
        ACKNOWLEDGE = "acknowledge", "Explained, no change"
        FLAG_PAYMENT = "flag_payment", "Flag our payment for review"
        REFUND = "refund", "Refund the purchase"

    line = models.OneToOneField(ReconciliationLine, on_delete=models.PROTECT, related_name="resolution")
    action = models.CharField(max_length=14, choices=Action.choices)
    reason = models.TextField()
    resolved_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.resolved_by}"


class Approval(models.Model):
    """Maker-checker: an action one person asked for and a second person of the right role must approve.

    Kinds: entering or changing a vending key, a refund above the threshold, a free token above the daily
    kWh per meter, a tariff change (backoffice.services.approvals). The maker cannot decide their own
    request; every step is also an audit event. A requested vending key is kept only encrypted here and
    is dropped once the request is decided."""

    class Kind(models.TextChoices):
        VENDING_KEY = "vending_key", "Vending key"
        REFUND = "refund", "Refund"
        FREE_TOKEN = "free_token", "Free token"
        TARIFF_CHANGE = "tariff_change", "Tariff change"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a second person"
        APPROVED = "approved", "Approved and done"
        REJECTED = "rejected", "Rejected"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    summary = models.CharField(max_length=255)
    supply_group = models.ForeignKey(SupplyGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    purchase = models.ForeignKey("vending.Purchase", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    tariff = models.ForeignKey("vending.Tariff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    payload = models.JSONField(default=dict, blank=True)  # never a secret
    secret_encrypted = models.BinaryField(null=True, editable=False)
    maker = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    maker_reason = models.CharField(max_length=500)
    checker = models.ForeignKey("auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    checker_reason = models.CharField(max_length=500, blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "kind"])]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}: {self.summary}"
