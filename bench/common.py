"""What the benchmarks share: free ports, a scratch database, a private Redis, the site as deployed."""

import contextlib
import http.client
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres", "connect_timeout": 3}
# Variables of the calling shell a child process needs; everything else comes from production_env().
KEPT_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR")


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ScratchDatabase:
    """A PostgreSQL database of its own on 127.0.0.1:5432 (user postgres), dropped at the end; a
    SQLite file in ``folder`` when that server is not reachable."""

    def __init__(self, folder, prefix="clinic_portal_bench"):
        self.name = None
        self.path = folder / "bench.sqlite3"
        try:
            import psycopg

            admin = psycopg.connect(**POSTGRES, autocommit=True)
        except Exception as error:
            print(f"PostgreSQL at 127.0.0.1:5432 is not reachable ({type(error).__name__}): SQLite instead")
            self.vendor, self.url = "sqlite", f"sqlite:///{self.path}"
            return
        with admin:
            self.name = f"{prefix}_{secrets.token_hex(4)}"
            # UTF-8 with a UTF-8 ctype, as in production (trigram search of Korean and Cyrillic).
            admin.execute(
                f"CREATE DATABASE {self.name} WITH ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' "
                "LC_CTYPE 'C.UTF-8' TEMPLATE template0"
            )
        self.vendor, self.url = "postgresql", f"postgres://postgres@127.0.0.1:5432/{self.name}"

    def drop(self):
        """Drops it, and the test database Django derives from its name if a child process left one."""
        if self.name is None:
            return
        import psycopg

        with psycopg.connect(**POSTGRES, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
            admin.execute(f"DROP DATABASE IF EXISTS test_{self.name} WITH (FORCE)")
        self.name = None


def production_env(folder, *, site_url, database_url, allowed_hosts="127.0.0.1,localhost", **extra):
    """The environment of the site as deployed (DEBUG off), with its files in ``folder``."""
    env = {key: value for key, value in os.environ.items() if key in KEPT_VARIABLES}
    env.update(
        DJANGO_SETTINGS_MODULE="clinic_portal.settings",
        PYTHONUNBUFFERED="1",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=allowed_hosts,
        SITE_URL=site_url,
        # Plain HTTP on this machine; production sits behind a TLS proxy.
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=database_url,
        STATIC_ROOT=str(folder / "static"),
        MEDIA_ROOT=str(folder / "media"),
        PUBLIC_MEDIA_ROOT=str(folder / "public-media"),
        BACKUP_DIR=str(folder / "backups"),
        ERASURE_LOG=str(folder / "erasure-log.jsonl"),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    env.update(extra)
    return env


def manage(env, *args):
    """``manage.py`` in a child process with this environment; exits with its output on failure."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        start_new_session=True,
    )
    if result.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def stop_process_group(process, timeout=20):
    """SIGTERM to the process and its children, SIGKILL after ``timeout`` seconds."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class Gunicorn:
    """The site under gunicorn (sync workers, as deploy/systemd runs it) on a port of 127.0.0.1."""

    def __init__(self, env, port, log_path, *, workers=2, timeout=30):
        self.env = env
        self.port = port
        self.log_path = log_path
        self.command = [
            str(BIN / "gunicorn"),
            "clinic_portal.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            str(timeout),
            "--no-control-socket",
        ]
        self.process = None

    def start(self, wait=60):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + wait
        while not self.ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                sys.exit(f"gunicorn did not start:\n{Path(self.log_path).read_text(errors='replace')}")
            time.sleep(0.3)

    def ready(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            connection.request("GET", "/healthz", headers={"Host": f"127.0.0.1:{self.port}"})
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self):
        stop_process_group(self.process)
        self.process = None


class PrivateRedis:
    """A redis-server of its own on a free port, nothing kept on disk; the shared one is never used."""

    def __init__(self, folder):
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    @staticmethod
    def available():
        return shutil.which("redis-server") is not None

    def start(self):
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while self.command("PING") != "+PONG":
            if self.process.poll() is not None or time.monotonic() > deadline:
                sys.exit("redis-server did not start")
            time.sleep(0.1)

    def command(self, *words):
        """One command in Redis's inline protocol; its first reply line, or None."""
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall((" ".join(words) + "\r\n").encode())
                return sock.recv(256).split(b"\r\n", 1)[0].decode()
        except OSError:
            return None

    def flush(self):
        self.command("FLUSHALL")

    def stop(self):
        stop_process_group(self.process, timeout=5)
        self.process = None
