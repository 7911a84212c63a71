"""The Django admin that a utility runs its prepaid business from; one module per area."""

from vending.admin import audit, customers, meters, network, purchases  # noqa: F401 - registers
