"""Meters and their debts."""

from django.contrib import admin

from vending.models import CustomerMeter, Meter, MeterDebt


class SavedByInline(admin.TabularInline):
    model = CustomerMeter
    extra = 0
    fields = ["customer", "alias", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["customer"]


class MeterDebtInline(admin.TabularInline):
    model = MeterDebt
    extra = 0


@admin.register(Meter)
class MeterAdmin(admin.ModelAdmin):
    list_display = ["drn", "label_name", "supply_group", "tariff", "status", "base_date", "key_revision",
                    "pending_key_change"]
    list_filter = ["status", "supply_group", "tariff", "base_date", "key_type"]
    search_fields = ["drn", "pan", "label_name", "label_address", "saved_by__customer__phone"]
    readonly_fields = ["pan", "last_tid", "created_at", "updated_at"]
    inlines = [SavedByInline, MeterDebtInline]
    fieldsets = [
        (None, {"fields": ["drn", "pan", "label_name", "label_address", "status"]}),
        ("Configuration", {"fields": ["supply_group", "tariff", "tariff_index", "key_type", "key_revision",
                                      "base_date", "last_tid"]}),
        ("Pending key change (the next vend carries it)", {
            "fields": ["pending_supply_group", "pending_tariff_index", "pending_key_revision",
                       "pending_base_date"],
        }),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(boolean=True, description="key change pending")
    def pending_key_change(self, obj: Meter) -> bool:
        return obj.has_pending_key_change

    def save_model(self, request, obj, form, change):
        from vending.meter_numbers import derive_pan

        obj.pan = derive_pan(obj.drn)
        super().save_model(request, obj, form, change)


@admin.register(MeterDebt)
class MeterDebtAdmin(admin.ModelAdmin):
    list_display = ["meter", "description", "original_amount", "balance", "currency", "created_at"]
    search_fields = ["meter__drn", "description"]
    list_filter = ["currency"]
