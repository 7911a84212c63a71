"""config/hooks_wsgi.py: /hooks/ requests through the short middleware list, every other path through the full one."""

from __future__ import annotations

import io
from typing import Any
from wsgiref.util import setup_testing_defaults

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections

from config.hooks_wsgi import with_lean_hooks


def _call(app: Any, path: str) -> tuple[str, dict[str, str], bytes]:
    body = b"sessionId=x&phoneNumber=%2B254711000111&serviceCode=%2A384%2A44135%23&text="
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    setup_testing_defaults(environ)
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    # As Django's test client does: no connection housekeeping around the request (none of these touch the
    # database, and pytest-django refuses any access outside a db test).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = app(environ, start_response)
        try:
            content = b"".join(response)
        finally:
            getattr(response, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return seen["status"], seen["headers"], content


def test_hooks_skip_the_browser_middleware_and_other_paths_keep_it() -> None:
    full = list(settings.MIDDLEWARE)
    app = with_lean_hooks(get_wsgi_application())
    assert full == settings.MIDDLEWARE  # the swap while building the hooks handler is undone

    status, headers, _ = _call(app, "/hooks/at/ussd/not-the-secret/")
    assert status.startswith("404")  # the USSD view itself answered (wrong secret), through the lean chain
    assert "X-Frame-Options" not in headers  # XFrameOptionsMiddleware is not in HOOKS_MIDDLEWARE
    assert headers.get("X-Content-Type-Options") == "nosniff"  # SecurityMiddleware is

    status, headers, _ = _call(app, "/no-such-page/")
    assert status.startswith("404")
    assert headers.get("X-Frame-Options") == "DENY"  # the full list still serves everything else
