import gc
import os

from django.core.wsgi import get_wsgi_application

from config.hooks_wsgi import with_lean_hooks

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Provider callbacks skip the browser middleware (config/hooks_wsgi.py).
application = with_lean_hooks(get_wsgi_application())

# What is loaded by now (Django, the apps, settings) lives as long as the process: move it out of the cyclic
# garbage collector's reach, so a full collection scans a fraction of the objects and stalls a worker (and
# every USSD hop queued behind it) for half as long (docs/BENCHMARKS.md, USSD).
gc.freeze()
