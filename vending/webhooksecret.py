"""Is this the webhook secret? WEBHOOK_SECRET, or WEBHOOK_SECRET_PREVIOUS while a rotation is under way.

Rotation without downtime: set WEBHOOK_SECRET_PREVIOUS to the old value and WEBHOOK_SECRET to the new one,
re-register the webhook URLs with each provider (new STK pushes carry the new one at once), then clear
WEBHOOK_SECRET_PREVIOUS once no request uses the old one. Every accepted value is compared in constant
time, all of them every time, so the answer's timing does not say which one matched.
"""

from django.conf import settings
from django.http import Http404
from django.utils.crypto import constant_time_compare


def accepted_webhook_secrets() -> list[str]:
    return [value for value in (settings.WEBHOOK_SECRET, settings.WEBHOOK_SECRET_PREVIOUS) if value]


def webhook_secret_ok(secret: str) -> bool:
    matches = [constant_time_compare(secret, value) for value in accepted_webhook_secrets()]
    return any(matches)


def check_webhook_secret(secret: str) -> None:
    """404 unless `secret` is accepted: the URL does not exist for anyone who does not know it."""
    if not webhook_secret_ok(secret):
        raise Http404
