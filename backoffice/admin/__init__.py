"""The Django admin that a utility runs its prepaid business from; one module per area.

The core models' pages (audit, customers, meters, network, purchases) live here next to the staff services
their actions call, so `vending` imports nothing from this app; they keep their `vending` app label, so their
URLs are /admin/vending/<model>/ as before. The back office's own pages: campaigns, imports, reconciliation,
dashboard, approvals, agents and lookup.
"""

from backoffice.admin import (  # noqa: F401 - registers
    agents,
    approvals,
    audit,
    campaigns,
    customers,
    dashboard,
    imports,
    meters,
    network,
    purchases,
    reconciliation,
)
