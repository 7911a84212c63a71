"""Customers and their saved meters."""

from django.contrib import admin

from backoffice.admin.base import NumberSearchMixin
from vending.models import Customer, CustomerMeter


class CustomerMeterInline(admin.TabularInline):
    model = CustomerMeter
    extra = 0
    autocomplete_fields = ["meter"]


@admin.register(Customer)
class CustomerAdmin(NumberSearchMixin, admin.ModelAdmin):
    phone_search_field = "phone"
    meter_search_field = "saved_meters__meter__drn"
    list_display = ["phone", "name", "language", "created_at"]
    list_filter = ["language"]
    search_fields = ["phone", "name", "saved_meters__meter__drn"]
    inlines = [CustomerMeterInline]
