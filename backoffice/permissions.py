"""Every staff service starts with `require(actor, PERM)`: the admin hides what a role may not do,
and the service refuses it anyway (a crafted POST, a shell, a future API)."""

from django.contrib.auth.models import AnonymousUser, User

from vending.exceptions import PermissionDenied

FIND = "backoffice.find_by_number"
RESEND_TOKEN = "backoffice.resend_token"
REPRINT_TOKEN = "backoffice.reprint_token"
REFUND_PURCHASE = "backoffice.refund_purchase"
ISSUE_FREE_TOKEN = "backoffice.issue_free_token"
ISSUE_ENGINEERING_TOKEN = "backoffice.issue_engineering_token"
CHANGE_METER_KEY = "backoffice.change_meter_key"
IMPORT_METERS = "backoffice.import_meters"
VIEW_REPORTS = "backoffice.view_reports"
RECONCILE = "backoffice.reconcile"
# Agents of the partner API (their permissions live on the agent models in vending/models/agents.py).
TOPUP_FLOAT = "vending.topup_float"
SET_CREDIT_LIMIT = "vending.set_credit_limit"
SUSPEND_AGENT = "vending.suspend_agent"
ISSUE_API_KEY = "vending.issue_api_key"
VIEW_AGENTS = "vending.view_agent"


def allowed(actor: User | AnonymousUser | None, perm: str) -> bool:
    return bool(actor is not None and actor.is_active and actor.is_staff and actor.has_perm(perm))


def require(actor: User | AnonymousUser | None, perm: str) -> None:
    """Raise PermissionDenied unless `actor` is an active staff user holding `perm`."""
    if not allowed(actor, perm):
        who = actor.get_username() if actor is not None else "nobody"
        raise PermissionDenied(f"{who} may not do this ({perm.split('.', 1)[1].replace('_', ' ')}).")


def require_reason(reason: str) -> str:
    """Money and token actions need a written reason for the audit trail."""
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise PermissionDenied("A reason is required for this action.")
    return reason
