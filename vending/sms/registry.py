"""Pick the SMS sender from a settings-like object, and each gateway's parsers for its callbacks.

- ``SMS_ROUTES`` set: a :class:`~vending.sms.routing.Router` over the gateways it names.
- else one gateway configured (Africa's Talking, Kannel or Hormuud): that gateway, as before routing;
  several: a router trying them in that order for every number.
- nothing configured: the console backend (docs/DESIGN.md rule 8).

Settings read: SMS_ROUTES, SMS_OPERATOR_PREFIXES; AT_USERNAME, AT_API_KEY, AT_API_BASE_URL, AT_SENDER_ID,
AT_ENQUEUE; KANNEL_SENDSMS_URL, KANNEL_USERNAME, KANNEL_PASSWORD, KANNEL_SENDER_ID, KANNEL_DLR_MASK,
KANNEL_SMSC; HORMUUD_SMS_BASE_URL, HORMUUD_SMS_USERNAME, HORMUUD_SMS_PASSWORD, HORMUUD_SMS_SENDER_ID;
PUBLIC_BASE_URL and WEBHOOK_SECRET (the delivery-report address handed to Kannel).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from .africastalking import AfricasTalkingConfig, AfricasTalkingSender, parse_at_inbound
from .base import DeliveryReport, InboundSms, SmsRejected, SmsSender
from .console import ConsoleSender
from .hormuud import HormuudConfig, HormuudSender, parse_hormuud_delivery_report, parse_hormuud_inbound
from .kannel import ALL_REPORTS, KannelConfig, KannelSender, parse_kannel_delivery_report, parse_kannel_inbound
from .reports import parse_at_delivery_report
from .routing import Router, parse_prefixes, parse_routes

GATEWAYS = ("africastalking", "kannel", "hormuud")  # the names in /hooks/sms/<gateway>/... and SMS_ROUTES
ROUTABLE = (*GATEWAYS, "console")

# What each gateway's requests to us look like: inbound SMS and delivery reports.
INBOUND_PARSERS: dict[str, Callable[[Mapping[str, str]], InboundSms]] = {
    "africastalking": parse_at_inbound,
    "kannel": parse_kannel_inbound,
    "hormuud": parse_hormuud_inbound,
}
REPORT_PARSERS: dict[str, Callable[[Mapping[str, str]], DeliveryReport]] = {
    "africastalking": parse_at_delivery_report,
    "console": parse_at_delivery_report,
    "kannel": parse_kannel_delivery_report,
    "hormuud": parse_hormuud_delivery_report,
}

_console = ConsoleSender()  # one per process so its outbox collects every message
# Senders keep HTTP sessions (connection reuse) and token caches: one per distinct configuration.
_senders: dict[tuple[Any, ...], SmsSender] = {}
_lock = threading.Lock()


def _s(settings_obj: Any, name: str, default: str = "") -> str:
    return str(getattr(settings_obj, name, default) or default)


def delivery_url(settings_obj: Any, gateway: str) -> str:
    base = _s(settings_obj, "PUBLIC_BASE_URL").rstrip("/")
    secret = _s(settings_obj, "WEBHOOK_SECRET")
    return f"{base}/hooks/sms/{gateway}/{secret}/delivery/" if base and secret else ""


def _configs(settings_obj: Any) -> dict[str, Any]:
    """The configuration of every gateway that has its credentials set."""
    configs: dict[str, Any] = {}
    if _s(settings_obj, "AT_USERNAME") and _s(settings_obj, "AT_API_KEY"):
        configs["africastalking"] = AfricasTalkingConfig(
            username=_s(settings_obj, "AT_USERNAME"),
            api_key=_s(settings_obj, "AT_API_KEY"),
            base_url=_s(settings_obj, "AT_API_BASE_URL"),
            sender_id=_s(settings_obj, "AT_SENDER_ID"),
            enqueue=bool(getattr(settings_obj, "AT_ENQUEUE", True)),
        )
    if _s(settings_obj, "KANNEL_SENDSMS_URL") and _s(settings_obj, "KANNEL_USERNAME"):
        configs["kannel"] = KannelConfig(
            sendsms_url=_s(settings_obj, "KANNEL_SENDSMS_URL"),
            username=_s(settings_obj, "KANNEL_USERNAME"),
            password=_s(settings_obj, "KANNEL_PASSWORD"),
            sender_id=_s(settings_obj, "KANNEL_SENDER_ID"),
            dlr_url=delivery_url(settings_obj, "kannel"),
            dlr_mask=int(getattr(settings_obj, "KANNEL_DLR_MASK", ALL_REPORTS) or ALL_REPORTS),
            smsc=_s(settings_obj, "KANNEL_SMSC"),
        )
    if _s(settings_obj, "HORMUUD_SMS_USERNAME") and _s(settings_obj, "HORMUUD_SMS_PASSWORD"):
        configs["hormuud"] = HormuudConfig(
            base_url=_s(settings_obj, "HORMUUD_SMS_BASE_URL", "https://smsapi.hormuud.com"),
            username=_s(settings_obj, "HORMUUD_SMS_USERNAME"),
            password=_s(settings_obj, "HORMUUD_SMS_PASSWORD"),
            sender_id=_s(settings_obj, "HORMUUD_SMS_SENDER_ID"),
        )
    return configs


def _build(gateway: str, config: Any) -> SmsSender:
    if gateway == "africastalking":
        return AfricasTalkingSender(config)
    if gateway == "kannel":
        return KannelSender(config)
    return HormuudSender(config, cache=_django_cache())


def _cached(key: tuple[Any, ...], make: Callable[[], SmsSender]) -> SmsSender:
    with _lock:
        sender = _senders.get(key)
        if sender is None:
            sender = _senders[key] = make()
        return sender


def sender_named(gateway: str, settings_obj: Any) -> SmsSender:
    """The configured sender of one gateway; SmsRejected when its settings are missing."""
    if gateway == "console":
        return _console
    config = _configs(settings_obj).get(gateway)
    if config is None:
        raise SmsRejected(f"SMS gateway {gateway!r} is in SMS_ROUTES but not configured")
    return _cached((gateway, config), lambda: _build(gateway, config))


def get_sender(settings_obj: Any) -> SmsSender:
    routes = _s(settings_obj, "SMS_ROUTES").strip()
    configs = _configs(settings_obj)
    if not routes:
        if not configs:
            return _console
        if len(configs) == 1:
            return sender_named(next(iter(configs)), settings_obj)
        routes = "*=" + ",".join(configs)  # every configured gateway, in GATEWAYS order
    prefixes = _s(settings_obj, "SMS_OPERATOR_PREFIXES")
    key = ("router", routes, prefixes, tuple(sorted(configs.items(), key=lambda kv: kv[0])))

    def make() -> SmsSender:
        return Router(
            parse_routes(routes, known=ROUTABLE),
            lambda name: sender_named(name, settings_obj),
            parse_prefixes(prefixes),
        )

    return _cached(key, make)


def _django_cache() -> Any | None:
    """Django's default cache when Django is set up (the Hormuud token shared by workers), else None."""
    try:
        from django.conf import settings
        from django.core.cache import cache
    except ImportError:  # pragma: no cover - Django is a dependency
        return None
    return cache if (settings.configured or os.environ.get("DJANGO_SETTINGS_MODULE")) else None
