"""Utilities, supply groups (write-only vending keys) and tariffs."""

from django import forms
from django.contrib import admin, messages

from backoffice.services.approvals import TARIFF_FIELDS, tariff_change_request, vending_key_request
from vending.exceptions import VendingError
from vending.models import Meter, SupplyGroup, Tariff, TariffBlock, Utility
from vending.services.keys import parse_vending_key_hex


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
        "key. A typed key is encrypted and is never shown again; a second key custodian must approve it, and "
        "a group with meters gets it as a new key revision, the meters moved by a pre-coded key change.",
    )
    key_reason = forms.CharField(
        label="Why a new key",
        required=False,
        max_length=500,
        help_text="Required with a new vending key: kept in the audit trail.",
    )

    class Meta:
        model = SupplyGroup
        fields = ["utility", "name", "sgc", "key_revision", "dkga", "ea", "base_date", "ken", "is_active"]

    def clean(self):
        cleaned = super().clean()
        typed = cleaned.get("new_vending_key")
        dkga = cleaned.get("dkga") or (self.instance.dkga if self.instance.pk else None)  # read-only with meters
        if typed and dkga:
            try:
                self._parsed_key = parse_vending_key_hex(key_hex=typed, dkga=dkga)
            except ValueError as exc:
                self.add_error("new_vending_key", str(exc))
            if len((cleaned.get("key_reason") or "").strip()) < 3:
                self.add_error("key_reason", "Say why: a reason is required with a new vending key.")
        elif not typed and not (self.instance and self.instance.pk):
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
    # What the meters' decoder keys are derived from: fixed once a group has meters (a new key revision instead).
    _KEY_FIELDS = ["utility", "sgc", "key_revision", "dkga", "ea", "base_date", "ken"]

    @admin.display(description="vending key")
    def key_status(self, obj: SupplyGroup) -> str:
        return "set" if obj.has_vending_key else "not set"

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and Meter.objects.filter(supply_group=obj).exists():
            fields += self._KEY_FIELDS
        return fields

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        parsed = getattr(form, "_parsed_key", None)
        if parsed is not None:
            form._parsed_key = None
            try:
                approval = vending_key_request(
                    actor=request.user, supply_group=obj, key=parsed, reason=form.cleaned_data.get("key_reason", "")
                )
            except VendingError as exc:
                messages.error(request, str(exc))
                return
            messages.warning(
                request,
                f"Vending key request #{approval.pk} opened: a second key custodian must "
                "approve it before the key is used.",
            )


class TariffBlockInline(admin.TabularInline):
    model = TariffBlock
    extra = 0


class TariffForm(forms.ModelForm):
    change_reason = forms.CharField(
        label="Why this change",
        required=False,
        max_length=500,
        help_text="A change to an existing tariff waits for a second person's approval.",
    )

    class Meta:
        model = Tariff
        fields = [
            "utility",
            "name",
            "currency",
            "kind",
            "price_per_kwh",
            "vat_percent",
            "fixed_monthly_charge",
            "debt_recovery_percent",
            "min_purchase",
            "max_purchase",
            "is_active",
        ]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and len((cleaned.get("change_reason") or "").strip()) < 3:
            self.add_error("change_reason", "Say why: a reason is required to change a tariff.")
        return cleaned


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    form = TariffForm
    list_display = [
        "name",
        "utility",
        "currency",
        "kind",
        "price_per_kwh",
        "vat_percent",
        "min_purchase",
        "max_purchase",
        "is_active",
    ]
    list_filter = ["utility", "currency", "kind", "is_active"]
    search_fields = ["name"]
    inlines = [TariffBlockInline]

    def get_inlines(self, request, obj):
        # Blocks of a tariff in use are fixed here: a price change goes through a change request.
        return [] if obj is not None and obj.meters.exists() else self.inlines

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in TARIFF_FIELDS}
        if not changes:
            return
        try:
            approval = tariff_change_request(
                actor=request.user,
                tariff=Tariff.objects.get(pk=obj.pk),
                changes=changes,
                reason=form.cleaned_data.get("change_reason", ""),
            )
        except VendingError as exc:
            messages.error(request, str(exc))
            return
        messages.warning(
            request, f"Tariff change request #{approval.pk} opened: nothing changes until a second person approves it."
        )
