"""Every SMS in or out, with its delivery status."""

from django.db import models

from vending.models.purchases import Purchase
from vending.states import SmsState


class SmsMessage(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    direction = models.CharField(max_length=3, choices=Direction.choices)
    phone = models.CharField(max_length=16)
    text = models.TextField()
    provider = models.CharField(max_length=24, default="console")
    provider_message_id = models.CharField(max_length=80, blank=True)
    status = models.CharField(max_length=12, choices=SmsState.choices, editable=False)
    failure_reason = models.CharField(max_length=80, blank=True)
    purchase = models.ForeignKey(Purchase, on_delete=models.PROTECT, null=True, blank=True, related_name="sms_messages")
    attempts = models.PositiveSmallIntegerField(default=0)
    # Outbound: the gateway that carried it and the route table entry that chose it ("SO>hormuud"),
    # how it was encoded and how many SMS segments it cost (vending.sms.encoding).
    gateway = models.CharField(max_length=24, blank=True)
    route = models.CharField(max_length=64, blank=True)
    encoding = models.CharField(max_length=8, blank=True)
    segments = models.PositiveSmallIntegerField(default=1)
    # Claimed by the worker that sends it (an outbound row goes to the gateway at most once per claim);
    # QUEUED without it means no send was tried: the outbox dispatches it again.
    send_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A part of the purchase's token SMS: which send of it (1 the first, 2 the first resend…); None for
    # every other message. The delivered state and the resend limit read it (the audit keeps the record).
    token_send = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["phone", "-created_at"]), models.Index(fields=["status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["direction", "provider_message_id"],
                condition=~models.Q(provider_message_id=""),
                name="unique_sms_provider_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.phone} {self.status}"


class SmsAttempt(models.Model):
    """One try of one gateway for one outbound SMS: the audit of routing and failover."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        REFUSED = "refused", "Refused"
        UNAVAILABLE = "unavailable", "Unavailable"

    sms = models.ForeignKey(SmsMessage, on_delete=models.CASCADE, related_name="gateway_attempts")
    route = models.CharField(max_length=64)
    gateway = models.CharField(max_length=24)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    detail = models.CharField(max_length=200, blank=True)
    provider_message_id = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["route", "outcome", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.route} {self.outcome}"
