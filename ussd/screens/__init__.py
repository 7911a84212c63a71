"""Every USSD screen: what it shows and what each answer leads to (registered into ussd.machine).

Flows (docs/ARCHITECTURE.md walks one purchase through them):
  home ─1─ pick_meter(buy) / enter_meter(buy) ─ [buy.meter_found] ─ buy.amount ─ [buy.wallet] ─ buy.confirm
       ─2─ meters ─ meters.actions ─ meters.rename | meters.remove ;  meters ─ enter_meter(add) ─ meters.add_name
       ─3─ pick_meter(tokens) / enter_meter(tokens) ─ tokens.list
       ─4─ status ─ status.detail
       ─5─ language

One module per menu; importing this package registers every screen into ussd.conversation.REGISTRY.
"""

import ussd.i18n  # noqa: F401  (registers the catalogue the screens render from)
from ussd.screens import buy, history, home, meters  # noqa: F401  (each registers its screens)
