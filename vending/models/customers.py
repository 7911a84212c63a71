"""Customers (a phone number) and the meters they buy for."""

from django.db import models

from vending.models.choices import Language
from vending.models.meters import Meter


class Customer(models.Model):
    phone = models.CharField("phone (E.164)", max_length=16, unique=True)
    name = models.CharField(max_length=120, blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["phone"]

    def __str__(self) -> str:
        return self.phone


class CustomerMeter(models.Model):
    """A meter saved by a customer under an alias; many customers may buy for one meter."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="saved_meters")
    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="saved_by")
    alias = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["customer", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "meter"], name="unique_saved_meter_per_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.customer.phone}: {self.alias or self.meter.drn}"
