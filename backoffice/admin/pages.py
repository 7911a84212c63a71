"""Helpers for the back office's own admin pages: context, intermediate action forms, errors."""

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.template.response import TemplateResponse

from vending.exceptions import VendingError


def page(request: HttpRequest, template: str, title: str, **context: Any) -> TemplateResponse:
    response = TemplateResponse(request, template, {**admin.site.each_context(request), "title": title, **context})
    # Pages that may show a token once must not be kept by the browser.
    response["Cache-Control"] = "no-store"
    return response


def action_form(request: HttpRequest, queryset, *, form, action: str, title: str, note: str = "") -> TemplateResponse:
    """The intermediate page of an admin action: the form plus the selection, posted back to the changelist."""
    select_across = request.POST.get("select_across") == "1"
    selected = list(queryset.values_list("pk", flat=True)[: 1 if select_across else 1000])
    return page(
        request,
        "backoffice/action_form.html",
        title,
        form=form,
        action=action,
        selected=selected,
        select_across="1" if select_across else "0",
        count=queryset.count(),
        note=note,
        opts=queryset.model._meta,
    )


def report_error(request: HttpRequest, exc: VendingError) -> None:
    messages.error(request, str(exc))


def applying(request: HttpRequest) -> bool:
    return "apply" in request.POST
