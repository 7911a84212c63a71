"""Meter imports: the per-row report of each CSV upload (uploads start from the meter list)."""

from django.contrib import admin
from django.utils.html import format_html_join

from backoffice.admin.base import ReadOnlyAdmin
from backoffice.models import MeterImport


@admin.register(MeterImport)
class MeterImportAdmin(ReadOnlyAdmin):
    list_display = ["file_name", "created_at", "created_by", "created_count", "existing_count", "error_count"]
    fields = ("file_name", "created_by", "created_at", "created_count", "existing_count", "error_count", "rows")
    readonly_fields = fields

    @admin.display(description="report")
    def rows(self, obj: MeterImport) -> str:
        return format_html_join(
            "",
            '<div class="import-row import-{}">row {}: {} {} {}</div>',
            ((r["outcome"], r["row"], r["drn"], r["outcome"], r["message"]) for r in obj.report),
        )
