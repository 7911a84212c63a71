"""Requests waiting for a second person (maker-checker): read them, approve or reject with a reason."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse

from backoffice.admin.base import ReadOnlyAdmin
from backoffice.admin.forms import ReasonForm
from backoffice.admin.pages import page
from backoffice.models import Approval
from backoffice.permissions import allowed
from backoffice.services.approvals import CHECKER_PERMS, approval_decide
from backoffice.services.delivery import SHOW
from vending.exceptions import VendingError


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "summary", "status", "maker", "created_at", "checker", "decided_at"]
    list_filter = ["status", "kind"]
    fields = readonly_fields = (
        "kind",
        "summary",
        "status",
        "maker",
        "maker_reason",
        "created_at",
        "checker",
        "checker_reason",
        "decided_at",
        "payload",
        "result",
    )
    change_form_template = "backoffice/approval_change_form.html"

    def get_urls(self):
        return [
            path("<int:pk>/decide/", self.admin_site.admin_view(self.decide_view), name="backoffice_approval_decide"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        approval = self.get_object(request, object_id)
        can_decide = (
            approval is not None
            and approval.status == Approval.Status.PENDING
            and all(allowed(request.user, p) for p in CHECKER_PERMS[approval.kind])
        )
        extra = {
            "can_decide": can_decide,
            "own_request": approval is not None and approval.maker_id == request.user.pk,
            "decide_form": ReasonForm(),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)

    def decide_view(self, request, pk: int):
        approval = get_object_or_404(Approval, pk=pk)
        if request.method != "POST" or not self.has_view_permission(request, approval):
            raise DjangoPermissionDenied
        back = reverse("admin:backoffice_approval_change", args=[pk])
        form = ReasonForm(request.POST)
        if not form.is_valid():
            messages.error(request, "A reason is required to decide a request.")
            return redirect(back)
        try:
            decision = approval_decide(
                actor=request.user,
                approval=approval,
                approve="approve" in request.POST,
                reason=form.cleaned_data["reason"],
            )
        except VendingError as exc:
            messages.error(request, str(exc))
            return redirect(back)
        done = decision.approval
        messages.success(request, f"Request #{done.pk} {done.get_status_display().lower()}.")
        issued = decision.outcome
        if (
            done.kind == Approval.Kind.FREE_TOKEN
            and done.status == Approval.Status.APPROVED
            and done.payload.get("delivery") == SHOW
        ):
            meter = done.meter.drn if done.meter is not None else "a meter"
            return page(
                request, "backoffice/tokens_once.html", f"Free token for {meter}", tokens=[issued.token], back=back
            )
        return redirect(back)
