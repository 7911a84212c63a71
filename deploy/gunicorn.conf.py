"""gunicorn settings for koronto's web process: `gunicorn -c deploy/gunicorn.conf.py config.wsgi`.

The webhook secret is a path segment (/hooks/at/sms/<secret>/), and an access log writes the path of
every request. This file's logger class puts koronto's masking filter (vending/logsafety.py) on
gunicorn's access and error logs, so every line shows `/hooks/at/sms/[masked]/` instead, whatever
`access_log_format` says. Without this file, use an access-log format without the path atoms
(%(r)s, %(U)s, %(q)s, %({raw_uri})s, %(f)s) or no access log at all.
"""

import os

from gunicorn.glogging import Logger

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Two sync workers per core (README, Production; docs/BENCHMARKS.md).
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
worker_class = "sync"
timeout = 30
graceful_timeout = 30
# A worker recycled now and then keeps a slow leak from growing; the jitter spreads the restarts.
max_requests = 10000
max_requests_jitter = 1000
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
# The default combined format plus the time taken; the request line (%(r)s) and referer (%(f)s) are masked.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


class MaskedLogger(Logger):
    """gunicorn's logger with koronto's secret-masking filter on every handler of both logs."""

    def setup(self, cfg):  # type: ignore[no-untyped-def]
        super().setup(cfg)
        from vending.logsafety import mask_handlers

        for log in (self.access_log, self.error_log):
            mask_handlers(log)


logger_class = MaskedLogger
