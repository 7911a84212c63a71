"""Admin pages of the back office: campaigns, imports, reconciliation, dashboard and lookup."""

from backoffice.admin import agents, approvals, campaigns, dashboard, imports, reconciliation  # noqa: F401 - registers
