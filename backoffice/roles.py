"""The four staff roles as Django groups, and the permissions each one holds.

The table below is the single source. `sync_roles` makes the database match it: it is called by the
data migration (which first creates any missing permission rows, because on a fresh database
django.contrib.auth only creates them after the whole migrate run) and again after every migrate,
so a permission added later reaches its roles without a new data migration.
"""

from typing import Any

SUPPORT = "Support"
VENDING_OPERATOR = "Vending operator"
KEY_CUSTODIAN = "Key custodian"
FINANCE = "Finance"

_LOOKUP_VIEWS = [
    "vending.view_customer",
    "vending.view_customermeter",
    "vending.view_meter",
    "vending.view_purchase",
    "vending.view_payment",
    "vending.view_providercallback",
    "vending.view_token",
    "vending.view_smsmessage",
    "vending.view_auditevent",
    "backoffice.find_by_number",
]

# The partner API's agents (vending/models/agents.py): operators run agents, terminals and keys; Finance
# owns the money side (top-ups, credit limits, commission, statements).
_AGENT_VIEWS = [
    "vending.view_agent",
    "vending.view_agentterminal",
    "vending.view_agentsale",
    "vending.view_floatentry",
    "vending.view_commissionrule",
    "vending.view_faultreport",
]
_AGENT_OPERATIONS = [
    *_AGENT_VIEWS,
    "vending.add_agent",
    "vending.change_agent",
    "vending.add_agentterminal",
    "vending.change_agentterminal",
    "vending.view_apikey",
    "vending.issue_api_key",
    "vending.suspend_agent",
    "vending.change_faultreport",
    "vending.view_revenuefinding",
]
_AGENT_FINANCE = [
    *_AGENT_VIEWS,
    "vending.topup_float",
    "vending.set_credit_limit",
    "vending.add_commissionrule",
    "vending.change_commissionrule",
    "vending.delete_commissionrule",
    "vending.view_revenuefinding",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    SUPPORT: [
        *_LOOKUP_VIEWS,
        "backoffice.resend_token",
        "backoffice.reprint_token",
        "vending.view_faultreport",
        "vending.change_faultreport",
    ],
    VENDING_OPERATOR: [
        *_LOOKUP_VIEWS,
        "vending.view_meterdebt",
        "backoffice.resend_token",
        "backoffice.reprint_token",
        "backoffice.refund_purchase",
        "backoffice.issue_free_token",
        "backoffice.issue_engineering_token",
        *_AGENT_OPERATIONS,
        "backoffice.view_approval",
    ],
    KEY_CUSTODIAN: [
        "vending.view_utility",
        "vending.view_supplygroup",
        "vending.add_supplygroup",
        "vending.change_supplygroup",
        "vending.view_meter",
        "vending.view_tariff",
        "vending.view_token",
        "vending.view_auditevent",
        "backoffice.change_meter_key",
        "backoffice.import_meters",
        "backoffice.view_keychangecampaign",
        "backoffice.view_keychangeitem",
        "backoffice.view_meterimport",
        "backoffice.view_approval",
    ],
    FINANCE: [
        "vending.view_purchase",
        "vending.view_payment",
        "vending.view_providercallback",
        "vending.view_smsmessage",
        "vending.view_auditevent",
        "backoffice.view_reports",
        "backoffice.reconcile",
        "backoffice.view_reconciliationstatement",
        "backoffice.view_reconciliationline",
        *_AGENT_FINANCE,
        "backoffice.view_approval",
        "vending.view_tariff",
        "vending.change_tariff",
    ],
}


def sync_roles(*, group_model: Any, permission_model: Any) -> dict[str, list[str]]:
    """Create the groups and set their permissions to exactly the table; return what was missing.

    Takes the models as arguments so the data migration can pass its historical ones.
    """
    missing: dict[str, list[str]] = {}
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        found = []
        for dotted in perms:
            app_label, codename = dotted.split(".", 1)
            perm = permission_model.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is None:
                missing.setdefault(role, []).append(dotted)
            else:
                found.append(perm)
        group.permissions.set(found)
    return missing


def sync_roles_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """post_migrate receiver: only once per run (when our own app signals), on the migrated database."""
    if getattr(sender, "name", None) != "backoffice":
        return
    from django.contrib.auth.models import Group, Permission

    sync_roles(group_model=Group, permission_model=Permission)
