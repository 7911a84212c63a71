"""Provider callbacks under /hooks/ through Django with only the middleware they need.

The callbacks (Africa's Talking USSD, inbound SMS and delivery reports, Daraja payments) answer gateways,
not browsers: they read no session, user, message or CSRF cookie (every one is csrf_exempt) and serve no
static file. Behind the full list each one still paid for the session store, the lazy user, the message
storage and the CSRF and frame headers: about 0.2 ms of gunicorn CPU per request, a fifth of a bare
request's cost (docs/BENCHMARKS.md, issue 18). `with_lean_hooks` sends /hooks/ requests to a second
Django handler built with settings.HOOKS_MIDDLEWARE and everything else to the usual one; both share the
URLconf, so a URL answers the same either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

HOOKS_PREFIX = "/hooks/"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class HooksHandler(WSGIHandler):
    """Django's WSGI handler with settings.HOOKS_MIDDLEWARE in place of settings.MIDDLEWARE."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Django's handler reads its list from settings.MIDDLEWARE only: swap it while the chain is built (at
        # start-up, once, before any request) and put it back.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = list(settings.HOOKS_MIDDLEWARE)
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


def with_lean_hooks(application: WSGIApp) -> WSGIApp:
    """`application` for every path but /hooks/…, which a HooksHandler serves."""
    hooks = HooksHandler()

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(HOOKS_PREFIX):
            return hooks(environ, start_response)
        return application(environ, start_response)

    return dispatch
