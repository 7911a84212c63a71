"""Agents of the partner API in the admin: terminals and keys, float top-ups, credit limit, commission,
suspension, the statement CSV, the commission report, the fault queue and revenue-protection findings.

Every money action goes through backoffice.services.agents (permission check, then the core service);
nothing here writes a ledger row or a key itself.
"""

import csv
from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from backoffice import permissions as perms
from backoffice.admin.base import ReadOnlyAdmin
from backoffice.admin.forms import reason_field
from backoffice.admin.pages import page, report_error
from backoffice.services import agents as staff
from vending.exceptions import VendingError
from vending.models import (
    Agent,
    AgentSale,
    AgentTerminal,
    ApiKey,
    CommissionRule,
    FaultReport,
    FloatEntry,
    RevenueFinding,
)
from vending.models.agents import ApiScope
from vending.selectors.agents import balance_locked, commission_report, float_statement


class TopUpForm(forms.Form):
    amount = forms.DecimalField(min_value=0.01, max_digits=12, decimal_places=2)
    reference = forms.CharField(min_length=3, max_length=80, help_text="The bank or M-Pesa reference of the payment.")


class CreditLimitForm(forms.Form):
    credit_limit = forms.DecimalField(min_value=0, max_digits=12, decimal_places=2)
    reason = reason_field()


class KeyForm(forms.Form):
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple, initial=ApiScope.values
    )


class PeriodForm(forms.Form):
    start = forms.DateField(label="from", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="to (included)", widget=forms.DateInput(attrs={"type": "date"}))


def _period(request: HttpRequest) -> tuple[date, date]:
    form = PeriodForm(request.GET or None)
    today = timezone.localdate()
    if form.is_valid() and form.cleaned_data["start"] <= form.cleaned_data["end"]:
        return form.cleaned_data["start"], form.cleaned_data["end"]
    return today.replace(day=1), today


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    return (
        timezone.make_aware(datetime.combine(first, time.min)),
        timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min)),
    )


class TerminalInline(admin.TabularInline):
    model = AgentTerminal
    extra = 0
    fields = ["name", "is_active", "keys"]
    readonly_fields = ["keys"]

    @admin.display(description="API keys")
    def keys(self, obj: AgentTerminal) -> str:
        if not obj.pk:
            return "—"
        live = obj.api_keys.filter(revoked_at__isnull=True)
        listed = format_html_join(", ", "<code>{}…</code> ({})", ((k.prefix, ", ".join(k.scopes)) for k in live))
        url = reverse("admin:backoffice_agent_new_key", args=[obj.agent_id, obj.pk])
        return format_html('{} <a class="button new-key" href="{}">New API key</a>', listed or "none", url)


class CommissionRuleInline(admin.TabularInline):
    model = CommissionRule
    extra = 0
    fields = ["utility", "basis", "rate"]

    def _may(self, request: HttpRequest) -> bool:
        return perms.allowed(request.user, perms.SET_CREDIT_LIMIT)

    def has_add_permission(self, request, obj=None):
        return self._may(request)

    def has_change_permission(self, request, obj=None):
        return self._may(request)

    def has_delete_permission(self, request, obj=None):
        return self._may(request)


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["name", "currency", "status", "balance", "credit_limit", "created_at"]
    list_filter = ["status", "currency"]
    search_fields = ["name", "contact_phone"]
    inlines = [TerminalInline, CommissionRuleInline]
    actions = ["suspend", "reactivate"]

    def get_fields(self, request, obj=None):
        return (
            ["name", "currency", "contact_phone"]
            if obj is None
            else ["name", "currency", "contact_phone", "status", "credit_limit", "balance", "money_links"]
        )

    def get_readonly_fields(self, request, obj=None):
        # The money fields change only through their audited services (the buttons below).
        return [] if obj is None else ["currency", "status", "credit_limit", "balance", "money_links"]

    @admin.display(description="float balance")
    def balance(self, obj: Agent) -> str:
        return f"{balance_locked(agent_id=obj.pk):.2f} {obj.currency}"

    @admin.display(description="money")
    def money_links(self, obj: Agent) -> str:
        links = [
            ("Top up float", "admin:backoffice_agent_topup"),
            ("Set credit limit", "admin:backoffice_agent_credit"),
            ("Statement (CSV)", "admin:backoffice_agent_statement"),
        ]
        return format_html_join(
            " ",
            '<a class="button" id="{}" href="{}">{}</a>',
            ((name.split()[0].lower(), reverse(url, args=[obj.pk]), name) for name, url in links),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/topup/", view(self.topup_view), name="backoffice_agent_topup"),
            path("<int:pk>/credit-limit/", view(self.credit_view), name="backoffice_agent_credit"),
            path("<int:pk>/statement.csv", view(self.statement_view), name="backoffice_agent_statement"),
            path(
                "<int:pk>/terminal/<int:terminal_pk>/new-key/", view(self.new_key_view), name="backoffice_agent_new_key"
            ),
            path("commission-report/", view(self.commission_view), name="backoffice_agent_commission"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"commission_report_url": reverse("admin:backoffice_agent_commission")}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def _form_page(self, request: HttpRequest, agent: Agent, form: forms.Form, title: str):
        return page(
            request,
            "backoffice/agent_form.html",
            title,
            form=form,
            agent=agent,
            opts=self.opts,
            back=reverse("admin:vending_agent_change", args=[agent.pk]),
        )

    def topup_view(self, request: HttpRequest, pk: int):
        agent = get_object_or_404(Agent, pk=pk)
        if not perms.allowed(request.user, perms.TOPUP_FLOAT):
            raise PermissionDenied
        form = TopUpForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                entry = staff.float_topup(
                    actor=_staff(request),
                    agent=agent,
                    amount=form.cleaned_data["amount"],
                    reference=form.cleaned_data["reference"],
                )
            except VendingError as exc:
                report_error(request, exc)
            else:
                messages.success(request, f"Float topped up by {entry.amount:.2f}; balance {entry.balance_after:.2f}.")
                return redirect("admin:vending_agent_change", agent.pk)
        return self._form_page(request, agent, form, f"Top up the float of {agent}")

    def credit_view(self, request: HttpRequest, pk: int):
        agent = get_object_or_404(Agent, pk=pk)
        if not perms.allowed(request.user, perms.SET_CREDIT_LIMIT):
            raise PermissionDenied
        form = CreditLimitForm(request.POST or None, initial={"credit_limit": agent.credit_limit})
        if request.method == "POST" and form.is_valid():
            try:
                staff.credit_limit_set(
                    actor=_staff(request),
                    agent=agent,
                    credit_limit=form.cleaned_data["credit_limit"],
                    reason=form.cleaned_data["reason"],
                )
            except VendingError as exc:
                report_error(request, exc)
            else:
                messages.success(request, "Credit limit saved.")
                return redirect("admin:vending_agent_change", agent.pk)
        return self._form_page(request, agent, form, f"Credit limit of {agent}")

    def new_key_view(self, request: HttpRequest, pk: int, terminal_pk: int):
        terminal = get_object_or_404(AgentTerminal, pk=terminal_pk, agent_id=pk)
        if not perms.allowed(request.user, perms.ISSUE_API_KEY):
            raise PermissionDenied
        form = KeyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                issued = staff.api_key_issue(
                    actor=_staff(request), terminal=terminal, scopes=form.cleaned_data["scopes"]
                )
            except VendingError as exc:
                report_error(request, exc)
            else:
                return page(
                    request,
                    "backoffice/api_key_once.html",
                    f"New API key for {terminal}",
                    key=issued.plaintext,
                    api_key=issued.api_key,
                    opts=self.opts,
                    back=reverse("admin:vending_agent_change", args=[pk]),
                )
        return self._form_page(request, terminal.agent, form, f"New API key for {terminal}")

    def statement_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        agent = get_object_or_404(Agent, pk=pk)
        if not perms.allowed(request.user, perms.VIEW_AGENTS):
            raise PermissionDenied
        first, last = _period(request)
        start, end = _bounds(first, last)
        statement = float_statement(agent_id=agent.pk, start=start, end=end)
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="statement-{agent.pk}-{first}-{last}.csv"'
        writer = csv.writer(response)
        writer.writerow(["at", "kind", "amount", "balance_after", "reference", "purchase_id"])
        writer.writerow([start.isoformat(), "opening", "", f"{statement.opening_balance:.2f}", "", ""])
        for entry in statement.entries:
            writer.writerow(
                [
                    entry.created_at.isoformat(),
                    entry.kind,
                    f"{entry.amount:.2f}",
                    f"{entry.balance_after:.2f}",
                    entry.reference,
                    str(entry.sale.client_id) if entry.sale else "",
                ]
            )
        writer.writerow([end.isoformat(), "closing", "", f"{statement.closing_balance:.2f}", "", ""])
        writer.writerow(
            [
                "sales",
                statement.sales_count,
                f"{statement.sales_amount:.2f}",
                "",
                "commission",
                f"{statement.commission:.2f}",
            ]
        )
        return response

    def commission_view(self, request: HttpRequest):
        if not perms.allowed(request.user, perms.VIEW_AGENTS):
            raise PermissionDenied
        first, last = _period(request)
        rows = commission_report(start=_bounds(first, last)[0], end=_bounds(first, last)[1])
        if request.GET.get("export") == "csv":
            response = HttpResponse(content_type="text/csv")
            response["Content-Disposition"] = f'attachment; filename="commission-{first}-{last}.csv"'
            writer = csv.writer(response)
            writer.writerow(["agent", "utility", "currency", "sales", "amount", "commission"])
            for r in rows:
                writer.writerow(
                    [
                        r["agent__name"],
                        r["purchase__meter__supply_group__utility__name"],
                        r["currency"],
                        r["sales"],
                        f"{r['amount']:.2f}",
                        f"{r['commission']:.2f}",
                    ]
                )
            return response
        return page(
            request,
            "backoffice/commission_report.html",
            "Commission report",
            rows=rows,
            form=PeriodForm(initial={"start": first, "end": last}),
            first=first,
            last=last,
            opts=self.opts,
        )

    def _status(self, request: HttpRequest, queryset, *, suspend: bool) -> None:
        for agent in queryset:
            try:
                staff.agent_suspend(
                    actor=_staff(request),
                    agent=agent,
                    suspend=suspend,
                    reason=f"{'suspended' if suspend else 'reactivated'} from the agent list",
                )
            except VendingError as exc:
                report_error(request, exc)
                return
        messages.success(request, f"{queryset.count()} agent(s) {'suspended' if suspend else 'reactivated'}.")

    @admin.action(description="Suspend the selected agents (no more sales)")
    def suspend(self, request, queryset):
        self._status(request, queryset, suspend=True)

    @admin.action(description="Reactivate the selected agents")
    def reactivate(self, request, queryset):
        self._status(request, queryset, suspend=False)


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ["prefix", "terminal", "scopes", "created_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "terminal__name", "terminal__agent__name"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        try:
            for api_key in queryset:
                staff.api_key_revoke(actor=_staff(request), api_key=api_key)
        except VendingError as exc:
            report_error(request, exc)
            return
        messages.success(request, f"{queryset.count()} key(s) revoked.")

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not perms.allowed(request.user, perms.ISSUE_API_KEY):
            actions.pop("revoke", None)
        return actions


@admin.register(FloatEntry)
class FloatEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "agent", "kind", "amount", "balance_after", "reference", "created_by"]
    list_filter = ["kind", "agent"]
    search_fields = ["reference", "agent__name"]


@admin.register(AgentSale)
class AgentSaleAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "agent",
        "terminal",
        "client_id",
        "method",
        "amount",
        "commission",
        "confirmed_at",
        "reversed_at",
    ]
    list_filter = ["method", "agent"]
    search_fields = ["client_id", "purchase__reference"]
    exclude = ["response_body", "fingerprint"]  # the stored answer carries the token digits


@admin.register(FaultReport)
class FaultReportAdmin(admin.ModelAdmin):
    list_display = ["created_at", "agent", "meter_number", "kind", "meter_message", "status"]
    list_filter = ["status", "kind"]
    search_fields = ["meter_number", "reference"]
    readonly_fields = [
        "agent",
        "terminal",
        "reference",
        "meter_number",
        "kind",
        "meter_message",
        "purchase",
        "description",
        "created_at",
    ]
    actions = ["close"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Close the selected faults")
    def close(self, request, queryset):
        closed = queryset.update(status=FaultReport.Status.CLOSED)
        messages.success(request, f"{closed} fault(s) closed.")


@admin.register(RevenueFinding)
class RevenueFindingAdmin(ReadOnlyAdmin):
    """Revenue protection: voided tokens that a meter accepted anyway."""

    list_display = ["found_at", "meter", "agent", "purchase", "source"]
    list_select_related = ["meter", "token_void__sale__agent", "token_void__token__purchase"]

    @admin.display(description="agent")
    def agent(self, obj: RevenueFinding) -> str:
        return str(obj.token_void.sale.agent)

    @admin.display(description="purchase")
    def purchase(self, obj: RevenueFinding) -> str:
        purchase = obj.token_void.token.purchase
        return purchase.reference if purchase else "—"


def _staff(request: HttpRequest) -> User:
    """The signed-in staff user: these views sit behind admin_view, which lets no one else in."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user
