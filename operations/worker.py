"""The background worker: django-tasks-db's, made to outlive database outages, with a heartbeat.

django-tasks-db's worker exits on any database error but "locked". Ours runs its loop in batches
(every ready task, then back here): between batches, and after every task, it writes a heartbeat;
a database error backs off (1, 2, 4 … 30 s), reconnects and carries on. An email whose task was
interrupted by the outage keeps its lease and is re-queued by ``check_delivery`` once it expires.
"""

import contextlib
import logging
import os
import socket
import time
from datetime import timedelta

from django.db import DatabaseError, connections
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.utils import is_locked_database_exception

from clinic_portal.db_backends import DATABASE_UNAVAILABLE
from operations.models import STALE_HEARTBEATS, WorkerHeartbeat

logger = logging.getLogger("operations.worker")

HEARTBEAT_EVERY = timedelta(seconds=10)
MAX_BACKOFF_SECONDS = 30


class ResilientWorker(Worker):
    def __init__(self, **kwargs):
        self.keep_running = not kwargs["batch"]  # our loop; the parent's runs one batch at a time
        super().__init__(**{**kwargs, "batch": True})
        self.started_at = timezone.now()
        self.last_beat = None
        self.pruned_stale_heartbeats = False
        self.outage_started = None

    def run(self):
        logger.info("Worker %s starting (pid %s)", self.worker_id, os.getpid())
        notify_systemd("READY=1")
        if self.startup_delay and self.interval:
            time.sleep(self.interval * 0.5)  # spread the workers of one restart
        self.startup_delay = False
        backoff = 1
        while self.running:
            try:
                self.beat()
                self.database_back()
                backoff = 1
                super().run()  # every ready task, then back here
            except DATABASE_UNAVAILABLE as error:
                if is_locked_database_exception(error):  # SQLite under concurrent writes: not an outage
                    time.sleep(self.interval or 0.1)
                    continue
                self.database_down(error, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            if not self.keep_running or self.reached_max_tasks():
                return
            if self.running:
                time.sleep(self.interval)

    def run_task(self, db_task_result):
        super().run_task(db_task_result)
        self.beat()

    def reached_max_tasks(self):
        return self.max_tasks is not None and self._run_tasks >= self.max_tasks

    def beat(self):
        now = timezone.now()
        if self.last_beat and now - self.last_beat < HEARTBEAT_EVERY:
            return
        notify_systemd("WATCHDOG=1")
        if not self.pruned_stale_heartbeats:
            WorkerHeartbeat.objects.prune_older_than(STALE_HEARTBEATS)
            self.pruned_stale_heartbeats = True
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={
                "hostname": socket.gethostname()[:255],
                "pid": os.getpid(),
                "started_at": self.started_at,
                "beat_at": now,
            },
        )
        self.last_beat = now

    def database_down(self, error, backoff):
        self.last_beat = None  # beat again as soon as the database is back
        for connection in connections.all(initialized_only=True):
            with contextlib.suppress(DatabaseError):
                connection.close()
        if self.outage_started is None:
            self.outage_started = time.monotonic()
            logger.error("Database unavailable (%s): retrying, first in %s s", type(error).__name__, backoff)
        else:
            logger.warning("Database still unavailable: next try in %s s", backoff)

    def database_back(self):
        if self.outage_started is not None:
            logger.warning("Database back after %.0f s", time.monotonic() - self.outage_started)
            self.outage_started = None


def notify_systemd(state):
    """sd_notify(3) without a dependency: a datagram to the socket systemd names, when it names one."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.sendall(state.encode())
