"""Settings for bench/ussd_load.py's gunicorn: koronto's own settings, plus the database experiment the bench
can switch on to measure it (never used outside the bench).

By default nothing changes: the bench measures the production configuration. Environment switch, set by
bench/ussd_load.py's flag:
- USSD_BENCH_NO_HEALTH_CHECKS=1 (--no-health-checks): CONN_HEALTH_CHECKS off, measuring the connection check
  Django makes before the first query of each request on a persistent connection.
- USSD_BENCH_FULL_MIDDLEWARE=1 (bench/floor.py --compare-middleware): /hooks/ requests through the whole
  MIDDLEWARE list, as before config/hooks_wsgi.py, measuring what the lean list saves.
(--no-prepared-statements needs no switch here: it sets DB_PREPARED_STATEMENTS=0, which config/settings.py reads.)
"""

import os

from config.settings import *  # noqa: F403
from config.settings import DATABASES, MIDDLEWARE

if os.environ.get("USSD_BENCH_NO_HEALTH_CHECKS") == "1":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False

if os.environ.get("USSD_BENCH_FULL_MIDDLEWARE") == "1":
    HOOKS_MIDDLEWARE = list(MIDDLEWARE)
