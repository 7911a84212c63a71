"""Provider statements: upload (the add page), the outcome of the comparison, and resolving mismatches."""

from datetime import datetime
from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from backoffice import permissions as perms
from backoffice.admin.base import ReadOnlyAdmin
from backoffice.admin.forms import ResolveForm, StatementUploadForm
from backoffice.admin.pages import page
from backoffice.models import ReconciliationLine, ReconciliationStatement
from backoffice.reconciliation import MPESA_COLUMNS, WAAFIPAY_COLUMNS
from backoffice.services.reconcile import mismatch_resolve, resolve_actions_for, statement_upload
from vending.exceptions import VendingError


@admin.register(ReconciliationStatement)
class ReconciliationStatementAdmin(ReadOnlyAdmin):
    list_display = ["file_name", "source", "uploaded_at", "uploaded_by", "period_start", "period_end", "summary"]
    list_filter = ["source"]
    fields = (
        "source",
        "file_name",
        "uploaded_by",
        "uploaded_at",
        "period_start",
        "period_end",
        "summary",
        "mismatches",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return perms.allowed(request.user, perms.RECONCILE)

    @admin.display(description="summary")
    def summary(self, obj: ReconciliationStatement) -> str:
        counts = {o: obj.lines.filter(outcome=o).count() for o in ReconciliationLine.Outcome.values}
        return ", ".join(f"{ReconciliationLine.Outcome(o).label}: {n}" for o, n in counts.items())

    @admin.display(description="mismatches")
    def mismatches(self, obj: ReconciliationStatement) -> str:
        lines = obj.lines.exclude(outcome=ReconciliationLine.Outcome.MATCHED).select_related(
            "payment__purchase", "resolution"
        )
        currency = STATEMENT_CURRENCY.get(obj.source, "")
        rows = format_html_join(
            "",
            '<tr class="mismatch mismatch-{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
            "<td>{}</td><td>{}</td></tr>",
            (
                (
                    line.outcome,
                    line.get_outcome_display(),
                    line.their_reference or "—",
                    line.payment.purchase.reference if line.payment is not None else (line.account_reference or "—"),
                    _currency(line, currency),
                    _money(line.amount_theirs),
                    _money(line.amount_ours),
                    _local(line.occurred_at),
                    _resolution_cell(line),
                )
                for line in lines
            ),
        )
        return (
            format_html(
                '<table id="mismatches"><thead><tr><th>outcome</th><th>their reference</th><th>our reference</th>'
                "<th>currency</th><th>theirs</th><th>ours</th><th>when (local time)</th><th>resolution</th>"
                "</tr></thead>"
                "<tbody>{}</tbody></table>",
                rows,
            )
            if lines
            else "none"
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("line/<int:pk>/resolve/", view(self.resolve_view), name="backoffice_reconciliationline_resolve"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = StatementUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                statement = statement_upload(
                    actor=request.user,
                    source=form.cleaned_data["source"],
                    text=form.text(),
                    file_name=form.cleaned_data["file"].name,
                )
            except VendingError as exc:
                form.add_error("file", str(exc))
            else:
                return redirect(reverse("admin:backoffice_reconciliationstatement_change", args=[statement.pk]))
        return page(
            request,
            "backoffice/upload.html",
            "Upload a provider statement",
            form=form,
            opts=self.opts,
            help=f"M-Pesa columns: {', '.join(MPESA_COLUMNS)}. WaafiPay columns: {', '.join(WAAFIPAY_COLUMNS)}.",
        )

    def resolve_view(self, request, pk: int):
        if not perms.allowed(request.user, perms.RECONCILE):
            raise PermissionDenied
        line = get_object_or_404(ReconciliationLine, pk=pk)
        back = reverse("admin:backoffice_reconciliationstatement_change", args=[line.statement_id])
        form = ResolveForm(request.POST or None)
        form.fields["action"].choices = resolve_actions_for(request.user)  # type: ignore[attr-defined]  # Finance: no refund offered
        if request.method == "POST" and form.is_valid():
            try:
                mismatch_resolve(
                    actor=request.user,
                    line=line,
                    action=form.cleaned_data["action"],
                    reason=form.cleaned_data["reason"],
                )
            except VendingError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, "Mismatch resolved.")
            return redirect(back)
        return page(request, "backoffice/upload.html", f"Resolve: {line}", form=form, opts=self.opts, resolve=True)


# Statements carry no currency column: M-Pesa statements are in shillings, WaafiPay exports in dollars.
STATEMENT_CURRENCY = {"mpesa": "KES", "waafipay": "USD"}


def _currency(line: ReconciliationLine, default: str) -> str:
    """The statement row's own currency (WaafiPay exports have one), else our purchase's, else the source's."""
    raw = line.raw if isinstance(line.raw, dict) else {}
    return raw.get("Currency") or (line.payment.purchase.currency if line.payment is not None else default)


def _money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _local(value: datetime | None) -> str:
    return "—" if value is None else f"{timezone.localtime(value):%Y-%m-%d %H:%M}"


def _resolution_cell(line: ReconciliationLine) -> str:
    resolution = getattr(line, "resolution", None)
    if resolution is not None:
        return format_html("{} by {}: {}", resolution.get_action_display(), resolution.resolved_by, resolution.reason)
    return format_html(
        '<a href="{}" class="resolve-link">Resolve</a>',
        reverse("admin:backoffice_reconciliationline_resolve", args=[line.pk]),
    )
