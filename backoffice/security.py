"""Staff logins: a TOTP second factor for the roles that move money or keys, login throttling, idle timeout.

- Second factor (django-otp, TOTP): in production (STAFF_2FA_REQUIRED, on when KORONTO_ENV=production)
  a key custodian, finance or vending operator user, and any superuser, reaches the admin only after
  entering a code from their authenticator app in this session. A user with no device yet registers one
  once (the secret is shown once, as text and an otpauth:// link) and proves it with a first code; after
  that, a lost device is reset by an administrator. The demo and the embedded default leave it off, so
  `make demo` logs in with a password alone.
- Throttling (django-axes): repeated failed logins lock the username from that address for a while.
- Idle timeout: the session expires STAFF_IDLE_TIMEOUT_SECONDS after the last request (settings).
"""

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from backoffice.roles import FINANCE, KEY_CUSTODIAN, VENDING_OPERATOR

SECOND_FACTOR_ROLES = (KEY_CUSTODIAN, FINANCE, VENDING_OPERATOR)


class ThrottledLoginBackend(AxesStandaloneBackend):
    """django-axes' lockout check for every login from the network.

    `authenticate()` without a request (the test client's login, a management command) is no login
    from the network: there is nothing to throttle, and axes would refuse it outright."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def needs_second_factor(user: Any) -> bool:
    """Whether `user` must prove a second factor before using the admin (production only)."""
    if not getattr(settings, "STAFF_2FA_REQUIRED", False) or not user.is_authenticated or not user.is_staff:
        return False
    return user.is_superuser or user.groups.filter(name__in=SECOND_FACTOR_ROLES).exists()


def _verified(request: HttpRequest) -> bool:
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


class SecondFactorMiddleware:
    """After django_otp's OTPMiddleware: send an unverified user of a second-factor role to the code page."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if (
            path.startswith("/admin/")
            and not path.startswith(("/admin/login/", "/admin/logout/", "/admin/2fa/"))
            and needs_second_factor(request.user)
            and not _verified(request)
        ):
            return HttpResponseRedirect(f"{reverse('staff-2fa')}?next={path}")
        return self.get_response(request)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/admin/"
    return target if target.startswith("/admin/") and "//" not in target else "/admin/"


@login_required(login_url="/admin/login/")
@require_http_methods(["GET", "POST"])
def second_factor_view(request: HttpRequest) -> HttpResponse:
    """Enter a code; a user with no confirmed device registers one first (shown once)."""
    from django_otp import login as otp_login
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    error = ""
    enrolling = None
    if confirmed is None:
        enrolling = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
            user=user, name="authenticator app", confirmed=False
        )
    device = confirmed or enrolling
    if request.method == "POST":
        code = "".join(request.POST.get("code", "").split())
        if device is not None and code.isdigit() and device.verify_token(code):
            if enrolling is not None:
                enrolling.confirmed = True
                enrolling.save(update_fields=["confirmed"])
            otp_login(request, device)
            return HttpResponseRedirect(_safe_next(request))
        error = "That code is not right. Codes change every 30 seconds: try the current one."
    context = {
        "title": "Second factor",
        "error": error,
        "next": _safe_next(request),
        "enrolling": enrolling is not None,
        "secret": _base32(enrolling.bin_key) if enrolling is not None else "",
        "config_url": enrolling.config_url if enrolling is not None else "",
    }
    response = render(request, "backoffice/second_factor.html", context)
    response["Cache-Control"] = "no-store"  # the enrolment secret must not stay in a cache
    return response


def _base32(key: bytes) -> str:
    import base64

    return base64.b32encode(key).decode().rstrip("=")
