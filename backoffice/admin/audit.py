"""The audit trail: visible to staff, never editable."""

from django.contrib import admin

from backoffice.admin.base import ReadOnlyAdmin
from vending.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_id", "purchase"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_label", "object_id", "purchase__reference", "reason"]
    date_hierarchy = "at"
