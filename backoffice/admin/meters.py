"""Meters and their debts, with the staff actions on meters: engineering and free tokens (vending
operators), key changes for one meter or a filtered batch, and CSV import (key custodians)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse

from backoffice import permissions as perms
from backoffice.admin.base import NumberSearchMixin
from backoffice.admin.forms import EngineeringTokenForm, FreeTokenForm, KeyChangeForm, UploadForm
from backoffice.admin.pages import action_form, applying, page
from backoffice.services.approvals import free_token_needs_approval, free_token_request
from backoffice.services.campaigns import campaign_start
from backoffice.services.delivery import SHOW
from backoffice.services.key_changes import KeyChangeTarget, limit_key_change_targets, meter_key_change
from backoffice.services.meter_import import REQUIRED_COLUMNS, meters_import_csv
from backoffice.services.meter_tokens import engineering_token_issue, free_token_issue
from vending.exceptions import VendingError
from vending.meter_numbers import derive_pan
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
class MeterAdmin(NumberSearchMixin, admin.ModelAdmin):
    phone_search_field = "saved_by__customer__phone"
    meter_search_field = "drn"
    list_display = [
        "drn",
        "label_name",
        "supply_group",
        "tariff",
        "status",
        "base_date",
        "key_revision",
        "pending_key_change",
    ]
    list_filter = ["status", "supply_group", "tariff", "base_date", "key_type"]
    search_fields = ["drn", "pan", "label_name", "label_address", "saved_by__customer__phone"]
    readonly_fields = ["pan", "last_tid", "created_at", "updated_at"]
    inlines = [SavedByInline, MeterDebtInline]
    fieldsets = [
        (None, {"fields": ["drn", "pan", "label_name", "label_address", "status"]}),
        (
            "Configuration",
            {"fields": ["supply_group", "tariff", "tariff_index", "key_type", "key_revision", "base_date", "last_tid"]},
        ),
        (
            "Pending key change (the next vend carries it)",
            {
                "fields": ["pending_supply_group", "pending_tariff_index", "pending_key_revision", "pending_base_date"],
            },
        ),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    actions = ["engineering_token", "free_token", "key_change"]
    change_list_template = "backoffice/meter_change_list.html"

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="vending_meter_import"),
            *super().get_urls(),
        ]

    def has_issue_engineering_token_permission(self, request) -> bool:
        return perms.allowed(request.user, perms.ISSUE_ENGINEERING_TOKEN)

    def has_issue_free_token_permission(self, request) -> bool:
        return perms.allowed(request.user, perms.ISSUE_FREE_TOKEN)

    def has_change_meter_key_permission(self, request) -> bool:
        return perms.allowed(request.user, perms.CHANGE_METER_KEY)

    def changelist_view(self, request, extra_context=None):
        extra = {"can_import": perms.allowed(request.user, perms.IMPORT_METERS), **(extra_context or {})}
        return super().changelist_view(request, extra)

    def _one_meter(self, request, queryset) -> Meter | None:
        if queryset.count() != 1:
            messages.error(request, "Choose exactly one meter for this action.")
            return None
        return queryset.get()

    @admin.action(
        description="Engineering token (clear tamper, clear credit, power limit)",
        permissions=["issue_engineering_token"],
    )
    def engineering_token(self, request, queryset):
        meter = self._one_meter(request, queryset)
        if meter is None:
            return None
        form = EngineeringTokenForm(request.POST if applying(request) else None)
        if not form.is_valid():
            return action_form(
                request, queryset, form=form, action="engineering_token", title=f"Engineering token for {meter.drn}"
            )
        data = form.cleaned_data
        try:
            issued = engineering_token_issue(
                actor=request.user,
                meter=meter,
                kind=data["kind"],
                watts=data["watts"],
                delivery=data["delivery"],
                reason=data["reason"],
            )
        except VendingError as exc:
            messages.error(request, str(exc))
            return None
        return self._issued(request, meter, [issued.token], data["delivery"], issued.sms_count)

    @admin.action(description="Free / manual credit token (reason required)", permissions=["issue_free_token"])
    def free_token(self, request, queryset):
        meter = self._one_meter(request, queryset)
        if meter is None:
            return None
        form = FreeTokenForm(request.POST if applying(request) else None)
        if not form.is_valid():
            return action_form(request, queryset, form=form, action="free_token", title=f"Free token for {meter.drn}")
        data = form.cleaned_data
        if free_token_needs_approval(meter=meter, kwh=data["kwh"]):
            try:
                approval = free_token_request(
                    actor=request.user, meter=meter, kwh=data["kwh"], delivery=data["delivery"], reason=data["reason"]
                )
            except VendingError as exc:
                messages.error(request, str(exc))
                return None
            messages.warning(
                request,
                f"Meter {meter.drn}: above the free kWh one person may give a meter in a day; "
                f"request #{approval.pk} waits for a second person's approval.",
            )
            return None
        try:
            issued = free_token_issue(
                actor=request.user, meter=meter, kwh=data["kwh"], delivery=data["delivery"], reason=data["reason"]
            )
        except VendingError as exc:
            messages.error(request, str(exc))
            return None
        return self._issued(request, meter, [issued.token], data["delivery"], issued.sms_count)

    def _issued(self, request, meter: Meter, tokens, delivery: str, sms_count: int):
        if delivery == SHOW and tokens:
            return page(
                request,
                "backoffice/tokens_once.html",
                f"Tokens for meter {meter.drn}",
                tokens=tokens,
                back=reverse("admin:vending_meter_changelist"),
            )
        messages.success(request, f"Meter {meter.drn}: {len(tokens)} token(s) issued, {sms_count} SMS queued.")
        return None

    @admin.action(description="Key change (one meter, or a batch campaign)", permissions=["change_meter_key"])
    def key_change(self, request, queryset):
        form = KeyChangeForm(request.POST if applying(request) else None)
        limit_key_change_targets(form, queryset)
        if not form.is_valid():
            return action_form(
                request,
                queryset,
                form=form,
                action="key_change",
                title="Key change",
                note="One meter: done now. More: a campaign runs in the background.",
            )
        data = form.cleaned_data
        target = KeyChangeTarget(
            supply_group=data["supply_group"], tariff_index=data["tariff_index"], base_date=data["base_date"]
        )
        batch = request.POST.get("select_across") == "1" or queryset.count() > 1
        try:
            if not batch:
                meter = queryset.get()
                result = meter_key_change(
                    actor=request.user,
                    meter=meter,
                    target=target,
                    mode=data["mode"],
                    delivery=data["delivery"],
                    reason=data["reason"],
                )
                if result.mode == "precode":
                    messages.success(request, f"Meter {meter.drn}: key change pre-coded; the next vend carries it.")
                    return None
                return self._issued(request, meter, result.tokens, data["delivery"], result.sms_count)
            campaign = campaign_start(
                actor=request.user,
                meter_ids=queryset.values_list("pk", flat=True),
                name=data["name"],
                reason=data["reason"],
                mode=data["mode"],
                delivery="sms" if data["delivery"] == "sms" else "none",
                target=target,
                filter_description=request.GET.urlencode(),
            )
        except VendingError as exc:
            messages.error(request, str(exc))
            return None
        messages.success(request, f"Key change campaign started for {campaign.total} meters.")
        return redirect(reverse("admin:backoffice_keychangecampaign_change", args=[campaign.pk]))

    def import_view(self, request):
        if not perms.allowed(request.user, perms.IMPORT_METERS):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = meters_import_csv(
                    actor=request.user, text=form.text(), file_name=form.cleaned_data["file"].name
                )
            except VendingError as exc:
                form.add_error("file", str(exc))
            else:
                messages.success(
                    request,
                    f"{result.created_count} created, {result.existing_count} already there, "
                    f"{result.error_count} errors.",
                )
                return redirect(reverse("admin:backoffice_meterimport_change", args=[result.pk]))
        return page(
            request,
            "backoffice/upload.html",
            "Import meters from CSV",
            form=form,
            opts=self.opts,
            help=f"Columns: {', '.join(REQUIRED_COLUMNS)}; optional label_address, tariff_index, key_type, base_date.",
        )

    @admin.display(boolean=True, description="key change pending")
    def pending_key_change(self, obj: Meter) -> bool:
        return obj.has_pending_key_change

    def save_model(self, request, obj, form, change):
        obj.pan = derive_pan(obj.drn)
        super().save_model(request, obj, form, change)


@admin.register(MeterDebt)
class MeterDebtAdmin(admin.ModelAdmin):
    list_display = ["meter", "description", "original_amount", "balance", "currency", "created_at"]
    search_fields = ["meter__drn", "description"]
    list_filter = ["currency"]
