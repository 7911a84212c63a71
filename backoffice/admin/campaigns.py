"""Key change campaigns: progress while they run, failures, resume."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from backoffice import permissions as perms
from backoffice.admin.base import ReadOnlyAdmin
from backoffice.models import KeyChangeCampaign, KeyChangeItem
from backoffice.services.campaign_chunks import campaign_progress
from backoffice.services.campaigns import campaign_resume
from vending.exceptions import VendingError


@admin.register(KeyChangeCampaign)
class KeyChangeCampaignAdmin(ReadOnlyAdmin):
    list_display = ["name", "created_at", "created_by", "mode", "target_supply_group", "status", "progress_text"]
    list_filter = ["status", "mode"]
    fields = (
        "name",
        "reason",
        "mode",
        "delivery",
        "target_supply_group",
        "target_tariff_index",
        "target_base_date",
        "created_by",
        "created_at",
        "finished_at",
        "status",
        "progress",
        "failures",
    )
    readonly_fields = fields
    actions = ["resume"]
    change_form_template = "backoffice/campaign_change_form.html"

    @admin.display(description="progress")
    def progress_text(self, obj: KeyChangeCampaign) -> str:
        p = campaign_progress(obj)
        return f"{p['settled']}/{p['total']} ({p['percent']}%)"

    @admin.display(description="progress")
    def progress(self, obj: KeyChangeCampaign) -> str:
        p = campaign_progress(obj)
        return format_html(
            '<progress id="campaign-progress" max="{}" value="{}"></progress> '
            '<span id="campaign-counts">{} of {} settled ({}%): {} changed, {} already at target, {} failed, '
            "{} pending</span>",
            p["total"],
            p["settled"],
            p["settled"],
            p["total"],
            p["percent"],
            p["done"],
            p["skipped"],
            p["failed"],
            p["pending"],
        )

    @admin.display(description="failures (first 20)")
    def failures(self, obj: KeyChangeCampaign) -> str:
        failed = obj.items.filter(status=KeyChangeItem.Status.FAILED).select_related("meter")[:20]
        return format_html_join("", "<div>{}: {}</div>", ((i.meter.drn, i.error) for i in failed)) or "none"

    def has_resume_permission(self, request) -> bool:
        return perms.allowed(request.user, perms.CHANGE_METER_KEY)

    @admin.action(description="Resume (enqueue the pending meters again)", permissions=["resume"])
    def resume(self, request, queryset):
        for campaign in queryset:
            try:
                pending = campaign_resume(actor=request.user, campaign=campaign)
                messages.success(request, f"{campaign}: {pending} meters pending, enqueued.")
            except VendingError as exc:
                messages.error(request, str(exc))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        campaign = self.get_object(request, object_id)
        running = campaign is not None and campaign.status == KeyChangeCampaign.Status.RUNNING
        return super().change_view(request, object_id, form_url, {"refresh": running, **(extra_context or {})})
