"""Settings for bench/ussd_load.py's gunicorn: koronto's own settings, plus the database experiments the bench
can switch on to measure them (never used outside the bench).

By default nothing changes: the bench measures the production configuration. Environment switches, set by
bench/ussd_load.py's flags:
- USSD_BENCH_NO_HEALTH_CHECKS=1 (--no-health-checks): CONN_HEALTH_CHECKS off, measuring the `SELECT 1` Django
  sends before the first query of each request on a persistent connection;
- USSD_BENCH_SERVER_SIDE_BINDING=1 (--server-side-binding): psycopg server-side parameter binding, so
  statements run five times on a connection are prepared and Postgres stops planning them on every hop.
"""

import os

from config.settings import *  # noqa: F403
from config.settings import DATABASES

if os.environ.get("USSD_BENCH_NO_HEALTH_CHECKS") == "1":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
if os.environ.get("USSD_BENCH_SERVER_SIDE_BINDING") == "1":
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
