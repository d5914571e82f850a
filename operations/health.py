"""Checks of the parts the site needs, for /healthz (cheap) and /healthz/ready (everything)."""

import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection
from django.utils import timezone
from redis.exceptions import RedisError

from clinic_portal.storage import on_local_disk


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


def database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return Check(False, f"unavailable ({type(error).__name__})")
    return Check(True, "ok")


def cache_server():
    ping = getattr(cache, "ping", None)
    if ping is None:
        return Check(True, "local")  # a per-process cache: nothing to reach
    try:
        ping()
    except (RedisError, OSError):
        return Check(False, "unavailable")
    return Check(True, "ok")


def media_storage():
    """The private media root takes a new file, and has room for a day of requests; object storage
    takes and gives back a small file."""
    if not on_local_disk(default_storage):
        try:
            name = default_storage.save(f"health/{uuid.uuid4()}.txt", ContentFile(b"ok"))
            default_storage.delete(name)
        except Exception as error:
            return Check(False, f"object storage refused a file ({type(error).__name__})")
        return Check(True, "object storage")
    root = Path(settings.MEDIA_ROOT)
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".health-"):
            pass
        free = shutil.disk_usage(root).free
    except OSError as error:
        return Check(False, f"not writable ({error.strerror or type(error).__name__})")
    free_mb = free // (1024 * 1024)
    if free_mb < settings.MEDIA_MIN_FREE_MB:
        return Check(False, f"{free_mb} MB free, below {settings.MEDIA_MIN_FREE_MB} MB")
    return Check(True, f"{free_mb} MB free")


def worker():
    from operations.models import WorkerHeartbeat

    if not settings.TASKS["default"]["BACKEND"].startswith("django_tasks_db."):
        return Check(True, "not used: tasks run in the request")
    latest = WorkerHeartbeat.objects.latest_beat()
    if latest is None:
        return Check(False, "no heartbeat: is the worker running?")
    age = int((timezone.now() - latest).total_seconds())
    if age > settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS:
        return Check(False, f"last heartbeat {age} s ago")
    return Check(True, f"last heartbeat {age} s ago")


def email_queue():
    from inquiries.delivery import oldest_pending_age

    age = oldest_pending_age()
    if age is None:
        return Check(True, "nothing pending")
    minutes = int(age.total_seconds() // 60)
    if age > timedelta(minutes=settings.EMAIL_LAG_ALERT_MINUTES):
        return Check(False, f"oldest pending email written {minutes} min ago")
    return Check(True, f"oldest pending email written {minutes} min ago")


def readiness():
    """Every check; the database ones are skipped (and named) when the database is down."""
    checks = {"database": database(), "cache": cache_server(), "media": media_storage()}
    if checks["database"].ok:
        checks["worker"] = worker()
        checks["email"] = email_queue()
    else:
        checks["worker"] = checks["email"] = Check(False, "unknown: the database is unavailable")
    return checks
