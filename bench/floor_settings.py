"""Settings for bench/floor.py's bare web server (the web floor, issue 18): koronto's settings as
bench/ussd_settings.py gives them, with a bench-only URLconf and only the middleware a USSD hop needs.

A USSD hop reads no session, user, message or CSRF cookie (the view is csrf_exempt and answers an aggregator,
not a browser) and serves no static file, so the floor keeps only SecurityMiddleware (response headers) and
CommonMiddleware (host check, APPEND_SLASH): settings.HOOKS_MIDDLEWARE, the list config/hooks_wsgi.py gives
/hooks/ requests in production. USSD_FLOOR_FULL_MIDDLEWARE=1 (bench/floor.py --compare-middleware) keeps the
whole MIDDLEWARE list instead, to measure what the rest of it costs a bare request.
Never used outside the bench.
"""

import os

from bench.ussd_settings import *  # noqa: F403
from bench.ussd_settings import MIDDLEWARE

ROOT_URLCONF = "bench.floor_urls"
if os.environ.get("USSD_FLOOR_FULL_MIDDLEWARE") != "1":
    MIDDLEWARE = [
        m
        for m in MIDDLEWARE
        if m in ("django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware")
    ]
HOOKS_MIDDLEWARE = list(MIDDLEWARE)  # the floor's path is under /hooks/: the same list either way
