"""A system check (`manage.py check`, run by migrate and runserver): SMS_ROUTES and SMS_OPERATOR_PREFIXES
must be readable, and every gateway they name configured, before the first SMS finds out."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register()
def sms_routes_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    from .registry import ROUTABLE, _configs
    from .routing import RouteConfigError, parse_prefixes, parse_routes

    errors: list[Error] = []
    try:
        rules = parse_routes(getattr(settings, "SMS_ROUTES", "") or "", known=ROUTABLE)
        parse_prefixes(getattr(settings, "SMS_OPERATOR_PREFIXES", "") or "")
    except RouteConfigError as exc:
        return [Error(str(exc), hint="see docs/GATEWAYS.md, 'The route table'", id="koronto.E150")]
    configured = {*_configs(settings), "console"}
    for gateway in sorted({hop.gateway for rule in rules for hop in rule.hops} - configured):
        errors.append(
            Error(
                f"SMS_ROUTES names {gateway!r}, which has no credentials set",
                hint="set its settings (.env.example) or take it out of SMS_ROUTES",
                id="koronto.E151",
            )
        )
    return errors
