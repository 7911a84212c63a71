"""Utilities, supply groups (write-only vending keys) and tariffs."""

from django import forms
from django.contrib import admin

from vending.models import SupplyGroup, Tariff, TariffBlock, Utility
from vending.services.keys import parse_vending_key_hex, supply_group_set_vending_key


@admin.register(Utility)
class UtilityAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "currency", "sms_sender_id"]
    search_fields = ["name"]
    list_filter = ["country", "currency"]


class SupplyGroupForm(forms.ModelForm):
    """Accepts a new vending key but never renders one: the widget is empty on every page load."""

    new_vending_key = forms.CharField(
        label="New vending key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Hexadecimal: 16 digits for DKGA02, 40 for DKGA04. Leave empty to keep the current "
        "key. A saved key is encrypted and is never shown again.",
    )

    class Meta:
        model = SupplyGroup
        fields = ["utility", "name", "sgc", "key_revision", "dkga", "ea", "base_date", "ken", "is_active"]

    def clean(self):
        cleaned = super().clean()
        typed = cleaned.get("new_vending_key")
        dkga = cleaned.get("dkga")
        if typed and dkga:
            try:
                self._parsed_key = parse_vending_key_hex(key_hex=typed, dkga=dkga)
            except ValueError as exc:
                self.add_error("new_vending_key", str(exc))
        elif not typed and not (self.instance and self.instance.has_vending_key):
            self.add_error("new_vending_key", "A new supply group needs its vending key.")
        # Never keep the typed key around in cleaned_data longer than needed.
        cleaned.pop("new_vending_key", None)
        return cleaned


@admin.register(SupplyGroup)
class SupplyGroupAdmin(admin.ModelAdmin):
    form = SupplyGroupForm
    list_display = ["sgc", "key_revision", "name", "utility", "dkga", "ea", "base_date", "key_status"]
    list_filter = ["utility", "dkga", "ea", "base_date", "is_active"]
    search_fields = ["sgc", "name"]
    readonly_fields = ["key_status", "vending_key_set_at"]

    @admin.display(description="vending key")
    def key_status(self, obj: SupplyGroup) -> str:
        return "set" if obj.has_vending_key else "not set"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        parsed = getattr(form, "_parsed_key", None)
        if parsed is not None:
            supply_group_set_vending_key(supply_group=obj, key=parsed, actor=request.user, reason="admin")
            form._parsed_key = None


class TariffBlockInline(admin.TabularInline):
    model = TariffBlock
    extra = 0


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ["name", "utility", "currency", "kind", "price_per_kwh", "vat_percent", "min_purchase",
                    "max_purchase", "is_active"]
    list_filter = ["utility", "currency", "kind", "is_active"]
    search_fields = ["name"]
    inlines = [TariffBlockInline]
