"""The registry of USSD gateway adapters, selected by the name in `/hooks/ussd/<gateway>/<secret>/`.

Built in: `africastalking` (form post, whole history, CON/END text), `json` (Hubtel/Nalo style) and `xml`
(TruRoute style). USSD_GATEWAY_FORMATS adds named variants of the last two (or changes their defaults):
another operator's field names and flag values are configuration (docs/GATEWAYS.md).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from django.conf import settings

from ussd.gateways.africastalking import AfricasTalking
from ussd.gateways.base import NOTICES, BadHop, Gateway, Hop, HopKind
from ussd.gateways.formats import DEFAULTS, FormatError, formats_from_setting
from ussd.gateways.typed import TypedGateway

__all__ = ["AFRICAS_TALKING", "NOTICES", "BadHop", "FormatError", "Gateway", "Hop", "HopKind", "get", "names"]

AFRICAS_TALKING = AfricasTalking()


@lru_cache(maxsize=8)
def _registry(config: str) -> dict[str, Gateway]:
    gateways: dict[str, Gateway] = {AFRICAS_TALKING.name: AFRICAS_TALKING}
    for name, fmt in DEFAULTS.items():
        gateways[name] = TypedGateway(name, fmt)
    for name, fmt in formats_from_setting(json.loads(config)).items():
        gateways[name] = TypedGateway(name, fmt)
    return gateways


def _config() -> str:
    raw: Any = getattr(settings, "USSD_GATEWAY_FORMATS", {}) or {}
    if isinstance(raw, str):
        raw = json.loads(raw) if raw.strip() else {}
    return json.dumps(raw, sort_keys=True)


def get(name: str) -> Gateway | None:
    """The adapter for a gateway name in the URL, or None (the view answers 404)."""
    return _registry(_config()).get(name)


def names() -> list[str]:
    return sorted(_registry(_config()))
