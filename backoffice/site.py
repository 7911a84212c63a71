"""koronto's admin site: its own header, an index grouped by what staff come to do, a real "View site".

Installed as the default admin site (backoffice.apps.KorontoAdminConfig replaces django.contrib.admin in
INSTALLED_APPS), so every `@admin.register` lands here. Each model keeps its own permissions: a group
shows only the pages the user may see, and an empty group is left out.
"""

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest

# (group title, [(app_label, model_name), ...]) in the order staff meet them; a model not listed goes to "More".
TASKS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Help a customer",
        [
            ("backoffice", "lookup"),
            ("vending", "purchase"),
            ("vending", "customer"),
            ("vending", "token"),
            ("vending", "smsmessage"),
        ],
    ),
    (
        "Approvals and money",
        [
            ("backoffice", "approval"),
            ("backoffice", "dashboard"),
            ("backoffice", "reconciliationstatement"),
            ("vending", "payment"),
            ("vending", "refund"),
            ("vending", "providercallback"),
        ],
    ),
    (
        "Meters and keys",
        [
            ("vending", "meter"),
            ("backoffice", "keychangecampaign"),
            ("backoffice", "meterimport"),
            ("vending", "supplygroup"),
            ("vending", "meterdebt"),
        ],
    ),
    ("Utilities and tariffs", [("vending", "utility"), ("vending", "tariff")]),
    ("Audit and staff", [("vending", "auditevent"), ("auth", "user"), ("auth", "group")]),
]


class KorontoAdminSite(admin.AdminSite):
    site_header = "koronto back office"
    site_title = "koronto"
    index_title = "What do you need to do?"

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        # "View site": the phone simulator in demo mode; production has no public site, so no link.
        context["site_url"] = "/simulator/" if getattr(settings, "DEMO_MODE", False) else None
        return context

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps  # an app's own index page stays as Django builds it
        models = {(app["app_label"], m["object_name"].lower()): m for app in apps for m in app["models"]}
        groups = []
        for title, members in TASKS:
            entries = [models.pop(key) for key in members if key in models]
            if entries:
                groups.append(_group(title, entries))
        if models:
            groups.append(_group("More", sorted(models.values(), key=lambda m: str(m["name"]))))
        return groups


def _group(title: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    slug = title.lower().replace(" ", "-")
    return {
        "name": title,
        "app_label": slug,
        "app_url": entries[0]["admin_url"] or "#",
        "has_module_perms": True,
        "models": entries,
    }
