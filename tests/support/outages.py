"""Faults a test can inject into its own connections, never into the shared servers."""

import contextlib
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, connections

from tests.support.ports import free_port

PROJECT = Path(__file__).resolve().parents[2]


class TcpProxy:
    """Forwards a free local port to a server. ``cut()`` drops every connection and refuses new ones
    (the server is gone, as far as the client can tell); ``restore()`` lets them through again."""

    def __init__(self, target_port, target_host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener = None
        self._pairs = []
        self._lock = threading.Lock()
        self._running = False

    def start(self):
        self._listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self._listener.settimeout(0.2)
        self._running = True
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()
        return self

    def _accept(self):
        listener = self._listener
        while self._running:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=3)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client, upstream):
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        try:
            while True:
                for key, _ in selector.select(timeout=0.5):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            selector.close()
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.close()

    def cut(self):
        self._running = False
        self._acceptor.join()  # its accept() holds the listening socket open until it times out
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()

    def restore(self):
        self.start()

    @property
    def is_running(self):
        return self._running

    def stop(self):
        self.cut()


@contextlib.contextmanager
def database_through(proxy):
    """Every connection of this process (the live server's too) reaches the database through ``proxy``."""
    settings_dict = connection.settings_dict
    original_port = settings_dict["PORT"]
    settings_dict["PORT"] = str(proxy.port)
    connections.close_all()
    try:
        yield proxy
    finally:
        if not proxy.is_running:
            proxy.restore()
        settings_dict["PORT"] = original_port
        connections.close_all()


def require_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("fault injection on the database runs on PostgreSQL (set DATABASE_URL)")


def database_url(*, port=None):
    """The test database, reached directly or through a proxy's port."""
    params = connection.settings_dict
    user = params["USER"] or "postgres"
    password = f":{params['PASSWORD']}" if params["PASSWORD"] else ""
    host = params["HOST"] or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{port or params['PORT'] or 5432}/{params['NAME']}"


def manage_env(**overrides):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_", "DATABASE_URL", "REDIS_URL", "EMAIL_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "clinic_portal.settings",
            "DEBUG": "1",
            "SITE_URL": "http://127.0.0.1:8000",
            "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "LOG_LEVEL": "INFO",
        }
    )
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def start_manage(*args, env, log_path):
    log = open(log_path, "wb")  # noqa: SIM115 - the process writes to it until the test stops it
    return subprocess.Popen(
        [sys.executable, "manage.py", *args], cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT
    )


def wait_for(condition, *, timeout, interval=0.1, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")
