"""The sales dashboard (tables, server-drawn SVG charts, CSV export) and 'find by any number'."""

import csv
from datetime import date, datetime, time, timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils import timezone

from backoffice import permissions as perms
from backoffice.admin.base import ReadOnlyAdmin
from backoffice.admin.forms import LookupForm
from backoffice.admin.pages import page
from backoffice.charts import Chart, bar_chart
from backoffice.models import Dashboard, Lookup
from backoffice.reports import TABLES, Table, daily_series
from backoffice.story import find_by_number
from vending.selectors.sms_routes import sms_route_stats


class PageAdmin(ReadOnlyAdmin):
    """An admin entry that is one page, not a table (the model has no rows)."""

    permission: str = ""

    def has_view_permission(self, request, obj=None):
        return perms.allowed(request.user, self.permission)

    def has_module_permission(self, request):
        return self.has_view_permission(request)


@admin.register(Dashboard)
class DashboardAdmin(PageAdmin):
    permission = perms.VIEW_REPORTS

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            days = min(max(int(request.GET.get("days", 14)), 1), 366)
        except ValueError:
            days = 14
        today = timezone.localdate()
        first = today - timedelta(days=days - 1)
        start = timezone.make_aware(datetime.combine(first, time.min))
        end = timezone.make_aware(datetime.combine(today + timedelta(days=1), time.min))
        tables = {name: selector(start=start, end=end) for name, selector in TABLES.items()}
        export = request.GET.get("export")
        if export in tables:
            return _csv(tables[export], f"{export}-{first}-{today}.csv")
        charts = sales_charts(tables, first, days)
        return page(
            request,
            "backoffice/dashboard.html",
            "Sales dashboard",
            tables=tables,
            charts=charts,
            days=days,
            opts=self.opts,
            sms_routes=sms_route_stats(start=start, end=end),
        )


def sales_charts(tables: dict[str, Table], first: date, days: int) -> list[Chart]:
    """One sales chart per currency (amounts in different currencies never add up), then kWh sold and
    kWh given free, each on its own chart."""
    currencies = sorted({row[0] for row in tables["totals"].rows})
    charts = [
        bar_chart(
            f"Sales per day ({currency})",
            daily_series(tables["sales"], "amount", first, days, where={"currency": currency}),
            unit=currency,
            places=0 if currency in ("KES", "SLSH") else 2,
        )
        for currency in currencies
    ]
    charts.append(
        bar_chart(
            "kWh sold per day",
            daily_series(tables["units"], "kwh", first, days, where={"kind": "sold"}),
            unit="kWh",
            places=1,
        )
    )
    charts.append(
        bar_chart(
            "kWh given free per day",
            daily_series(tables["units"], "kwh", first, days, where={"kind": "free"}),
            unit="kWh",
            places=1,
        )
    )
    return charts


def _csv(table, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    return response


@admin.register(Lookup)
class LookupAdmin(PageAdmin):
    permission = perms.FIND

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = LookupForm(request.GET or None)
        results = find_by_number(form.cleaned_data["q"]) if form.is_valid() else []
        return page(
            request,
            "backoffice/lookup.html",
            "Find by any number",
            form=form,
            results=results,
            searched=form.is_bound,
            opts=self.opts,
        )
