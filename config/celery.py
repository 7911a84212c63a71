"""The Celery application; tasks live in each app's tasks.py and beat sweeps are listed here."""

import os

from celery import Celery

from vending import heartbeat, logsafety

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("koronto")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every worker writes a heartbeat row that /healthz reads; its log handlers mask secrets (vending/logsafety.py).
heartbeat.install(app)
logsafety.install_celery()
