from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeatQuerySet(models.QuerySet["WorkerHeartbeat"]):
    def latest_beat(self) -> datetime | None:
        return self.aggregate(latest=models.Max("beat_at"))["latest"]  # type: ignore[no-any-return]

    def prune_older_than(self, age: timedelta) -> int:
        return self.filter(beat_at__lt=timezone.now() - age).delete()[0]


class WorkerHeartbeat(models.Model):
    """Written by each background worker on every pass of its loop; the readiness check reads it."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()

    objects = WorkerHeartbeatQuerySet.as_manager()

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid}"


STALE_HEARTBEATS = timedelta(days=1)
