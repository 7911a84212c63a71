from typing import Any

from django.apps import AppConfig
from django.core import checks


class UssdConfig(AppConfig):
    name = "ussd"
    verbose_name = "USSD and SMS channels"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        checks.register(check_gateway_formats)


def check_gateway_formats(**kwargs: Any) -> list[checks.CheckMessage]:
    """USSD_GATEWAY_FORMATS must describe gateways we can serve: found at start-up, not on a customer's dial."""
    from django.conf import settings

    from ussd.gateways.formats import FormatError, formats_from_setting

    try:
        formats_from_setting(getattr(settings, "USSD_GATEWAY_FORMATS", {}) or {})
    except FormatError as exc:
        return [checks.Error(str(exc), hint="See docs/GATEWAYS.md, 'USSD gateways'.", id="ussd.E001")]
    return []
