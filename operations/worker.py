"""The background worker: django-tasks-db's, made to outlive database outages, with a heartbeat.

django-tasks-db's worker exits on any database error but "locked". Ours runs its loop in batches
(every ready task, then back here): between batches, and after every task, it writes a heartbeat;
a database error backs off (1, 2, 4 … 30 s), reconnects and carries on. An email whose task was
interrupted by the outage keeps its lease and is re-queued by ``check_delivery`` once it expires.
"""

import contextlib
import logging
import multiprocessing
import os
import selectors
import signal
import socket
import tempfile
import time
from datetime import timedelta

from django.db import DatabaseError, connections
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.utils import is_locked_database_exception

from clinic_portal.db_backends import DATABASE_UNAVAILABLE
from inquiries import delivery
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
                delivery.close_connection()  # the queue is empty: no SMTP connection kept idle
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


class WorkerProcesses:
    """Several workers under one command and one systemd unit, for a queue one process cannot keep up
    with. The tasks are claimed with SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL, so the processes
    never wait for one another nor take the same task.

    This parent process talks to the database and the SMTP server not at all: it starts the workers,
    forked, each in its own process group (a Ctrl-C reaches them once, through here), and gives each a
    notify socket of its own in place of systemd's. A worker that exits is started again after
    RESTART_SECONDS; one that has not told it is alive for the watchdog's time (as systemd would kill
    a single worker) is killed and started again. The parent tells systemd it is ready and alive. On
    SIGTERM or SIGINT it passes SIGTERM to the workers once, and they stop after the email in hand.
    """

    RESTART_SECONDS = 5
    POLL_SECONDS = 1

    def __init__(self, count, worker_kwargs, watchdog_seconds=None):
        self.count = count
        self.worker_kwargs = worker_kwargs
        self.watchdog_seconds = watchdog_seconds or systemd_watchdog_seconds() or 600
        self.running = True
        self.slots = {}  # slot -> {"process", "socket", "last_sign", "restart_at"}

    def run(self):
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        with tempfile.TemporaryDirectory(prefix="worker-notify-") as folder:
            selector = selectors.DefaultSelector()
            for slot in range(self.count):
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                sock.bind(os.path.join(folder, f"{slot}.sock"))
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ, slot)
                self.slots[slot] = {"process": None, "socket": sock, "last_sign": None, "restart_at": 0.0}
            logger.info("Starting %s worker processes (pid %s)", self.count, os.getpid())
            notify_systemd("READY=1")
            while self.running:
                self.tend()
                notify_systemd("WATCHDOG=1")
                for key, _events in selector.select(timeout=self.POLL_SECONDS):
                    with contextlib.suppress(OSError):
                        while key.fileobj.recv(256):
                            self.slots[key.data]["last_sign"] = time.monotonic()
            self.stop_workers()
            for entry in self.slots.values():
                entry["socket"].close()

    def tend(self):
        now = time.monotonic()
        for slot, entry in self.slots.items():
            process = entry["process"]
            if process is not None and not process.is_alive():
                logger.error("Worker process %s (pid %s) exited (%s)", slot, process.pid, process.exitcode)
                entry.update(process=None, restart_at=now + self.RESTART_SECONDS)
            elif process is not None and now - entry["last_sign"] > self.watchdog_seconds:
                logger.error("Worker process %s (pid %s) stopped answering: killed", slot, process.pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)
                process.join()
                entry.update(process=None, restart_at=now + self.RESTART_SECONDS)
            if entry["process"] is None and now >= entry["restart_at"]:
                self.start_worker(slot)

    def start_worker(self, slot):
        connections.close_all()  # a forked worker opens its own
        entry = self.slots[slot]
        kwargs = {
            **self.worker_kwargs,
            "worker_id": f"{self.worker_kwargs['worker_id'][:60]}-{slot}",
            "startup_delay": slot > 0,
        }
        process = multiprocessing.get_context("fork").Process(
            target=_run_worker, args=(kwargs, entry["socket"].getsockname()), name=f"worker-{slot}"
        )
        process.start()
        entry.update(process=process, last_sign=time.monotonic())

    def stop(self, signum, frame):
        self.running = False

    def stop_workers(self):
        processes = [entry["process"] for entry in self.slots.values() if entry["process"] is not None]
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
        for process in processes:
            process.join()
        logger.info("Worker processes stopped")


def _run_worker(kwargs, notify_socket):
    os.setpgrp()  # signals from a terminal reach the parent only, which passes them on once
    os.environ["NOTIFY_SOCKET"] = notify_socket
    os.environ.pop("WATCHDOG_USEC", None)
    worker = ResilientWorker(**kwargs)
    worker.configure_signals()
    worker.run()


def systemd_watchdog_seconds():
    with contextlib.suppress(KeyError, ValueError):
        return int(os.environ["WATCHDOG_USEC"]) / 1_000_000
    return None
