"""The last sign of life of each Celery worker, for /healthz (vending/heartbeat.py writes it)."""

from django.db import models


class WorkerHeartbeat(models.Model):
    # The worker's node name (`-n`, e.g. celery@host): one row per worker, updated in place.
    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField(db_index=True)
    started_at = models.DateTimeField()

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"{self.hostname} seen {self.seen_at:%Y-%m-%d %H:%M:%S}"
