"""Backups and restores as an operator runs them: every step is a `manage.py` process of its own.

The databases are temporary SQLite files or, when DATABASE_URL names a PostgreSQL server, new databases
on that server (random names, dropped at the end). Each site has its own media root, backups folder and
erasure log; a restored site reads the erasure log of the site it replaces.
"""

import hashlib
import io
import json
import os
import secrets
import shutil
import sqlite3
import stat
import subprocess
import sys
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

import environ
import pytest
from django.conf import settings

SERVER = environ.Env.db_url_config(os.environ["DATABASE_URL"]) if os.environ.get("DATABASE_URL") else {}
ON_POSTGRESQL = "postgresql" in SERVER.get("ENGINE", "")
# The sites cache in their own memory, whatever the test process uses.
NOT_INHERITED = {"REDIS_URL"}

CREATE_INQUIRIES = """
import json, uuid
from inquiries.services import inquiry_create, uploads_hold
from inquiries.uploads import CleanUpload
from tests.support.patients import pdf_bytes, png_bytes

def pdf(size):
    return CleanUpload(name="scan.pdf", content_type="application/pdf", data=pdf_bytes(padding=size))

png = CleanUpload(name="photo.png", content_type="image/png", data=png_bytes())
patients = {"Amara Okafor": [pdf(10)], "Bolat Serikov": [pdf(2000), png], "Chen Jing": [png]}
for number, (name, uploads) in enumerate(patients.items()):
    inquiry_create(
        data={
            "full_name": name, "email": f"patient{number}@example.com", "contact_channel": "email",
            "country": "KZ", "language": "ru", "patient_relation": "self", "patient_age": 40 + number,
            "symptom_duration": "1_5_years", "diagnosis": "Multiple sclerosis", "message": "Is surgery an option?",
        },
        clinics=[], uploads=uploads, submission_key=uuid.uuid4(), consent_text="I agree.",
    )
uploads_hold(submission_key=uuid.uuid4(), uploads=[pdf(500)])
"""

DESCRIBE_INQUIRIES = """
import json
from inquiries.models import Inquiry
print(json.dumps({
    inquiry.reference: {
        "full_name": inquiry.full_name,
        "email": inquiry.email,
        "erased": inquiry.anonymised_at is not None,
        "files": sorted(attachment.file.name for attachment in inquiry.attachments.all()),
    }
    for inquiry in Inquiry.objects.prefetch_related("attachments")
}))
"""

ERASE_INQUIRY = """
import json
from inquiries.models import Inquiry
from inquiries.services import inquiry_anonymise
inquiry_anonymise(inquiry=Inquiry.objects.get(reference={reference!r}))
print(json.dumps(None))
"""

REAPPLY_ERASURES = """
import json
from inquiries.erasures import reapply_erasures
print(json.dumps(reapply_erasures()))
"""

ERASE_WHILE_BACKING_UP = """
import json
from django.core.management import call_command
from inquiries.models import Inquiry
from inquiries.services import inquiry_anonymise
from operations import backups

archive_media = backups._archive_media

def erase_then_archive(*arguments):
    # Between the dump and the copy of the files: the erased inquiry's files are in the dump only.
    inquiry_anonymise(inquiry=Inquiry.objects.get(reference={reference!r}))
    return archive_media(*arguments)

backups._archive_media = erase_then_archive
call_command("backup")
print(json.dumps(None))
"""


# --- Databases -----------------------------------------------------------------------------------------


class SQLiteDatabases:
    def __init__(self, folder):
        self.folder = folder

    def create(self, template=None):
        path = self.folder / f"{secrets.token_hex(6)}.sqlite3"
        if template:
            shutil.copyfile(self._path(template), path)
        return f"sqlite:///{path}"

    def table_count(self, url):
        if not self._path(url).exists():
            return 0
        return self.count(url, "SELECT count(*) FROM sqlite_master WHERE type = 'table'")

    def count(self, url, query):
        with closing(sqlite3.connect(self._path(url))) as database:
            return database.execute(query).fetchone()[0]

    def drop_all(self):
        pass  # the files go with the temporary folder

    @staticmethod
    def _path(url):
        return Path(url.removeprefix("sqlite:///"))


class PostgreSQLDatabases:
    def __init__(self, server):
        self.server = server
        self.created = []

    def create(self, template=None):
        from psycopg import sql

        name = f"backup_test_{secrets.token_hex(6)}"
        self._execute(
            sql.SQL(
                "CREATE DATABASE {} TEMPLATE {} ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            ).format(sql.Identifier(name), sql.Identifier(self._name(template) if template else "template0"))
        )
        self.created.append(name)
        user = quote(self.server["USER"]) + (
            f":{quote(self.server['PASSWORD'])}" if self.server["PASSWORD"] else ""
        )
        return f"postgres://{user}@{self.server['HOST']}:{self.server['PORT'] or 5432}/{name}"

    def table_count(self, url):
        return self.count(url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")

    def count(self, url, query):
        return self._execute(query, self._name(url))[0][0]

    @contextmanager
    def lock(self, url, table):
        """Holds an ACCESS EXCLUSIVE lock on a table, from a connection of its own, until the end."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(**self._connection_settings(self._name(url))) as connection:
            connection.execute(
                sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.Identifier(table))
            )
            yield
            connection.rollback()

    def drop_all(self):
        # Each DROP DATABASE waits for a checkpoint; drops made together share one.
        with ThreadPoolExecutor() as pool:
            list(pool.map(self._execute, [self._drop(name) for name in self.created]))

    @staticmethod
    def _drop(name):
        from psycopg import sql

        return sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))

    def _execute(self, statement, database="postgres"):
        import psycopg

        with psycopg.connect(**self._connection_settings(database), autocommit=True) as connection:
            cursor = connection.execute(statement)
            return cursor.fetchall() if cursor.description else None

    def _connection_settings(self, database):
        return {
            "host": self.server["HOST"] or None,
            "port": self.server["PORT"] or None,
            "user": self.server["USER"] or None,
            "password": self.server["PASSWORD"] or None,
            "dbname": database,
        }

    @staticmethod
    def _name(url):
        return url.rsplit("/", 1)[1]


# --- Sites ---------------------------------------------------------------------------------------------


@dataclass
class Site:
    """One installation: its database, private media root, backups folder and erasure log."""

    database_url: str
    media_root: Path
    backup_dir: Path
    erasure_log: Path

    def manage(self, *arguments, check=True, environment=None):
        result = subprocess.run(
            [sys.executable, "manage.py", *map(str, arguments)],
            cwd=settings.BASE_DIR,
            env={**self._environment(), **(environment or {})},
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(map(str, arguments))} failed:\n{result.stderr}")
        return result

    def run(self, code):
        """Run Python in the site's own process; returns what the code printed last, as JSON."""
        return json.loads(self.manage("shell", "--no-imports", "-c", code).stdout.splitlines()[-1])

    def _environment(self):
        inherited = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
        return {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "clinic_portal.settings",
            "DEBUG": "1",
            "DATABASE_URL": self.database_url,
            "MEDIA_ROOT": str(self.media_root),
            "BACKUP_DIR": str(self.backup_dir),
            "ERASURE_LOG": str(self.erasure_log),
            "TASKS_BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }


def new_site(folder, database_url, erasure_log=None):
    folder.mkdir(parents=True, exist_ok=True)
    return Site(
        database_url=database_url,
        media_root=folder / "media",
        backup_dir=folder / "backups",
        erasure_log=erasure_log or folder / "erasure-log.jsonl",
    )


def files_under(root):
    """Every file under a folder, by relative name, with its content."""
    if not root.exists():
        return {}
    return {
        path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class BackedUp:
    site: Site
    backup: Path
    inquiries: dict  # as described at the time of the backup
    files: dict  # the media root at the time of the backup


@pytest.fixture(scope="module")
def databases(tmp_path_factory):
    server = PostgreSQLDatabases(SERVER) if ON_POSTGRESQL else SQLiteDatabases(tmp_path_factory.mktemp("db"))
    yield server
    server.drop_all()


@pytest.fixture(scope="module")
def migrated(databases, tmp_path_factory):
    """A migrated database without inquiries, copied by the tests: migrations run once."""
    url = databases.create()
    new_site(tmp_path_factory.mktemp("template"), url).manage("migrate", "--verbosity=0")
    return url


@pytest.fixture(scope="module")
def backed_up(databases, migrated, tmp_path_factory):
    """A site with three inquiries with files and a file held for a resubmission, and its backup."""
    site = new_site(tmp_path_factory.mktemp("source"), databases.create(template=migrated))
    inquiries = site.run(CREATE_INQUIRIES + DESCRIBE_INQUIRIES)
    site.manage("backup")
    (backup,) = site.backup_dir.iterdir()
    return BackedUp(site, backup, inquiries, files_under(site.media_root))


@pytest.fixture
def site_with_inquiries(databases, migrated, tmp_path):
    """A site of its own with the inquiries of CREATE_INQUIRIES, for tests that erase, and what it has."""
    site = new_site(tmp_path / "site", databases.create(template=migrated))
    return site, site.run(CREATE_INQUIRIES + DESCRIBE_INQUIRIES)


@pytest.fixture
def empty_site(databases, backed_up, tmp_path):
    """A new, empty database and media root; the erasure log is that of the backed-up site."""
    return new_site(tmp_path / "restored", databases.create(), erasure_log=backed_up.site.erasure_log)


@pytest.fixture(scope="module")
def database_never_restored_into(databases):
    """An empty database shared by the tests of refused restores (each checks it stays empty)."""
    return databases.create()


@pytest.fixture
def refusing_site(database_never_restored_into, backed_up, tmp_path):
    """A site with an empty database and media root, for restores that must be refused."""
    return new_site(
        tmp_path / "refusing", database_never_restored_into, erasure_log=backed_up.site.erasure_log
    )


def copy_of(backup, folder):
    return Path(shutil.copytree(backup, folder / backup.name))


def nothing_restored(site, databases):
    return databases.table_count(site.database_url) == 0 and files_under(site.media_root) == {}


def older_backups(backed_up, folder):
    """A folder with two complete backups made before; returns what it holds."""
    copy_of(backed_up.backup, folder)
    (folder / "backup-20250101T000000Z").mkdir()
    (folder / "backup-20250101T000000Z" / "manifest.json").write_text("{}")
    return sorted(path.name for path in folder.iterdir())


def reference_of(inquiries, full_name):
    (reference,) = (
        reference for reference, inquiry in inquiries.items() if inquiry["full_name"] == full_name
    )
    return reference


# --- Tests ---------------------------------------------------------------------------------------------


def test_a_backup_is_one_complete_folder_readable_by_its_owner_only(backed_up):
    backup = backed_up.backup
    manifest = json.loads((backup / "manifest.json").read_text())
    database_part = "database.pgdump" if ON_POSTGRESQL else "database.sqlite3"

    assert backup.name.startswith("backup-") and [p.name for p in backup.parent.iterdir()] == [backup.name]
    assert manifest["engine"] == ("postgresql" if ON_POSTGRESQL else "sqlite")
    assert manifest["counts"] == {
        "inquiries": 3,
        "attachments": 4,
        "media_files": 5,
        "files_erased_meanwhile": 0,
        "held_files_discarded_meanwhile": 0,
    }
    assert sorted(manifest["parts"]) == [database_part, "media.tar"]
    for name, part in manifest["parts"].items():
        assert part["sha256"] == sha256(backup / name)
        assert mode(backup / name) == 0o600
    assert mode(backup) == 0o700 and mode(backup.parent) == 0o700
    with tarfile.open(backup / "media.tar") as archive:
        assert {
            member.name: archive.extractfile(member).read() for member in archive.getmembers()
        } == backed_up.files


def test_a_restore_brings_back_every_inquiry_and_file_and_erases_again_what_was_erased_after_the_backup(
    backed_up, empty_site
):
    source = backed_up.site
    erased = sorted(backed_up.inquiries)[0]
    erased_files = backed_up.inquiries[erased]["files"]
    assert erased_files and set(erased_files) <= set(backed_up.files)  # in the backup, before the erasure
    source.run(ERASE_INQUIRY.format(reference=erased))

    result = empty_site.manage("restore", backed_up.backup, "--yes")

    restored = empty_site.run(DESCRIBE_INQUIRIES)
    assert set(restored) == set(backed_up.inquiries)
    for reference, inquiry in backed_up.inquiries.items():
        if reference != erased:
            assert restored[reference] == inquiry
    assert restored[erased]["erased"] and restored[erased]["full_name"] == "—"
    assert restored[erased]["email"].endswith("@invalid") and restored[erased]["files"] == []
    files_kept = {name: data for name, data in backed_up.files.items() if name not in erased_files}
    assert files_under(empty_site.media_root) == files_kept  # byte for byte, the held file included
    assert files_under(empty_site.media_root) == files_under(source.media_root)
    assert "Inquiries: 3 (in the backup: 3)" in result.stdout
    assert "Erasures re-applied: 1" in result.stdout
    assert "Every attachment has its file, unchanged." in result.stdout

    (line,) = source.erasure_log.read_text().splitlines()  # the re-applied erasure is not logged twice
    entry = json.loads(line)
    assert sorted(entry) == ["erased_at", "inquiry", "reference"] and entry["reference"] == erased
    assert "@example.com" not in line and mode(source.erasure_log) == 0o600


def test_a_restore_into_a_migrated_database_without_inquiries_works_too(
    backed_up, databases, migrated, tmp_path
):
    site = new_site(tmp_path, databases.create(template=migrated))
    site.erasure_log.touch()  # nothing erased: this test is about the migrated target only

    result = site.manage("restore", backed_up.backup, "--yes")

    assert "Inquiries: 3 (in the backup: 3)" in result.stdout
    assert set(site.run(DESCRIBE_INQUIRIES)) == set(backed_up.inquiries)


def test_restore_refuses_a_database_with_inquiries_and_a_media_root_with_files(
    backed_up, refusing_site, databases
):
    into_the_source = backed_up.site.manage("restore", backed_up.backup, "--yes", check=False)
    assert into_the_source.returncode != 0
    assert "already has inquiries. Restore only into an empty database" in into_the_source.stderr
    assert databases.count(backed_up.site.database_url, "SELECT count(*) FROM inquiries_inquiry") == 3

    refusing_site.media_root.mkdir()
    (refusing_site.media_root / "report.pdf").write_bytes(b"someone's file")
    over_files = refusing_site.manage("restore", backed_up.backup, "--yes", check=False)
    assert over_files.returncode != 0
    assert f"The media root {refusing_site.media_root} already has files" in over_files.stderr
    assert databases.table_count(refusing_site.database_url) == 0


def test_restore_refuses_a_backup_changed_since_it_was_made(backed_up, refusing_site, databases, tmp_path):
    backup = copy_of(backed_up.backup, tmp_path)
    (database_part,) = backup.glob("database.*")
    content = bytearray(database_part.read_bytes())
    content[len(content) // 2] ^= 0x01
    database_part.write_bytes(content)

    result = refusing_site.manage("restore", backup, "--yes", check=False)

    assert result.returncode != 0
    assert f"{database_part} does not match its checksum in manifest.json" in result.stderr
    assert nothing_restored(refusing_site, databases)


def test_restore_refuses_an_archive_with_a_file_outside_the_media_root(
    backed_up, refusing_site, databases, tmp_path
):
    backup = copy_of(backed_up.backup, tmp_path)
    with tarfile.open(backup / "media.tar", "w") as archive:
        content = b"%PDF-1.4\n%%EOF\n"
        member = tarfile.TarInfo("inquiries/../../escaped.pdf")
        member.size = len(content)
        archive.addfile(member, io.BytesIO(content))
    manifest = json.loads((backup / "manifest.json").read_text())
    manifest["parts"]["media.tar"]["sha256"] = sha256(backup / "media.tar")
    (backup / "manifest.json").write_text(json.dumps(manifest))

    result = refusing_site.manage("restore", backup, "--yes", check=False)

    assert result.returncode != 0
    assert (
        "its member 'inquiries/../../escaped.pdf' has '..' in its path. Nothing was restored."
        in result.stderr
    )
    assert nothing_restored(refusing_site, databases)
    assert list(tmp_path.rglob("escaped.pdf")) == []


def test_a_backup_keeps_the_newest_complete_backups_and_leaves_anything_else_alone(backed_up, tmp_path):
    folder = tmp_path / "backups"
    for day in ("01", "02", "03"):
        (folder / f"backup-202501{day}T000000Z").mkdir(parents=True)
        (folder / f"backup-202501{day}T000000Z" / "manifest.json").write_text("{}")
    (folder / "backup-20240101T000000Z").mkdir()  # no manifest: not a complete backup
    (folder / ".incomplete-interrupted").mkdir()
    (folder / "notes.txt").write_text("kept")

    result = backed_up.site.manage("backup", "--to", folder, "--keep", "2")

    (new,) = {path.name for path in folder.glob("backup-2*")} - {
        "backup-20240101T000000Z",
        "backup-20250101T000000Z",
        "backup-20250102T000000Z",
        "backup-20250103T000000Z",
    }
    assert sorted(path.name for path in folder.iterdir()) == [
        ".incomplete-interrupted",
        "backup-20240101T000000Z",
        "backup-20250103T000000Z",
        new,
        "notes.txt",
    ]
    assert "Removed the older backup backup-20250101T000000Z." in result.stdout
    assert ".incomplete-interrupted was left by an interrupted backup" in result.stderr


@pytest.mark.parametrize("media_root", ["empty", "missing"])
def test_a_backup_that_finds_files_missing_fails_and_keeps_the_older_backups(backed_up, tmp_path, media_root):
    folder = tmp_path / "backups"
    before = older_backups(backed_up, folder)
    referred_to = len(files_under(backed_up.site.media_root))  # fewer if another test erased an inquiry
    # MEDIA_ROOT on a volume that is not mounted: an empty folder, or none at all.
    site = replace(backed_up.site, media_root=tmp_path / "media", backup_dir=folder)
    if media_root == "empty":
        site.media_root.mkdir()

    result = site.manage("backup", "--keep", "1", check=False)

    assert result.returncode != 0
    assert "The backup failed; no older backup was removed." in result.stderr
    assert (
        f"{referred_to} of the {referred_to} files the database refers to are not in the media root "
        f"{site.media_root}. "
        "Is its volume mounted" in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert sorted(path.name for path in folder.iterdir()) == before  # none pruned, nothing left behind
    for reference, inquiry in backed_up.inquiries.items():  # no patient's data in the message
        assert reference not in result.stderr and inquiry["full_name"] not in result.stderr
        assert not any(name in result.stderr for name in inquiry["files"])


def test_a_backup_that_cannot_read_the_database_fails_with_a_message_and_keeps_the_older_backups(
    backed_up, databases, tmp_path
):
    folder = tmp_path / "backups"
    before = older_backups(backed_up, folder)
    site = replace(new_site(tmp_path / "site", databases.create()), backup_dir=folder)  # never migrated

    result = site.manage("backup", "--keep", "1", check=False)

    assert result.returncode != 0
    assert "The backup failed; no older backup was removed. The database could not be backed up:" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert sorted(path.name for path in folder.iterdir()) == before


@pytest.mark.skipif(not ON_POSTGRESQL, reason="pg_dump's snapshot is held open by a PostgreSQL session")
def test_a_backup_outlasts_the_sites_database_timeouts_however_long_pg_dump_takes(
    backed_up, databases, tmp_path
):
    site = replace(backed_up.site, backup_dir=tmp_path / "backups")
    # The site's sessions end when idle in a transaction for 2 s; pg_dump waits for the lock longer.
    timeouts = {"DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS": "2000", "DATABASE_STATEMENT_TIMEOUT_MS": "2000"}
    waiting_for_the_lock = (
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock' AND backend_type = 'client backend'"
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        with databases.lock(site.database_url, "staff_auditentry"):
            started = time.monotonic()
            backing_up = pool.submit(site.manage, "backup", check=False, environment=timeouts)
            while not databases.count(site.database_url, waiting_for_the_lock):
                assert not backing_up.done(), backing_up.result().stderr
                assert time.monotonic() - started < 60
                time.sleep(0.1)
            time.sleep(3)  # pg_dump waits; the session holding its snapshot is idle all the while
        result = backing_up.result()

    assert result.returncode == 0, result.stderr
    (backup,) = site.backup_dir.iterdir()
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["counts"]["inquiries"] == 3
    assert manifest["counts"]["media_files"] == len(files_under(site.media_root))
    assert manifest["parts"]["database.pgdump"]["bytes"] > 0


def test_files_erased_while_a_backup_runs_are_left_out_and_said_so(site_with_inquiries):
    site, inquiries = site_with_inquiries
    erased = reference_of(inquiries, "Amara Okafor")
    (erased_file,) = inquiries[erased]["files"]

    site.run(ERASE_WHILE_BACKING_UP.format(reference=erased))

    (backup,) = site.backup_dir.iterdir()
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["counts"] == {
        "inquiries": 3,
        "attachments": 4,
        "media_files": 4,
        "files_erased_meanwhile": 1,
        "held_files_discarded_meanwhile": 0,
    }
    with tarfile.open(backup / "media.tar") as archive:
        names = archive.getnames()
    assert erased_file not in names and len(names) == 4


def test_an_erasure_that_cannot_be_logged_is_not_made_and_its_files_stay(site_with_inquiries, tmp_path):
    site, inquiries = site_with_inquiries
    reference = reference_of(inquiries, "Bolat Serikov")
    files = files_under(site.media_root)
    not_a_folder = tmp_path / "not-a-folder"
    not_a_folder.write_text("a file where the log's folder should be")
    site.erasure_log = not_a_folder / "erasure-log.jsonl"

    refused = site.manage(
        "shell", "--no-imports", "-c", ERASE_INQUIRY.format(reference=reference), check=False
    )

    assert refused.returncode != 0
    assert site.run(DESCRIBE_INQUIRIES) == inquiries  # not erased: name, address and files all there
    assert files_under(site.media_root) == files
    assert f"The erasure log {site.erasure_log} cannot be written" in refused.stderr
    assert "nothing was erased" in refused.stderr

    site.erasure_log = tmp_path / "erasure-log.jsonl"
    site.run(ERASE_INQUIRY.format(reference=reference))

    erased = site.run(DESCRIBE_INQUIRIES)[reference]
    assert erased["erased"] and erased["full_name"] == "—" and erased["files"] == []
    assert set(files_under(site.media_root)) == set(files) - set(inquiries[reference]["files"])
    (line,) = site.erasure_log.read_text().splitlines()
    assert json.loads(line)["reference"] == reference

    # Erasing it again, or re-applying the log (with an inquiry this database never had), changes nothing.
    site.run(ERASE_INQUIRY.format(reference=reference))
    with site.erasure_log.open("a") as log:
        log.write(json.dumps({"inquiry": "00000000-0000-4000-8000-000000000000", "reference": "X"}) + "\n")
    assert site.run(REAPPLY_ERASURES) == 0
    assert site.run(DESCRIBE_INQUIRIES)[reference] == erased
    assert len(site.erasure_log.read_text().splitlines()) == 2


def test_a_file_that_cannot_be_deleted_does_not_undo_or_break_an_erasure(site_with_inquiries):
    site, inquiries = site_with_inquiries
    reference = reference_of(inquiries, "Chen Jing")
    (name,) = inquiries[reference]["files"]
    path = site.media_root / name
    path.unlink()
    path.mkdir()  # a folder that is not empty where the file was: deleting it fails, even for root
    (path / "inside").write_bytes(b"")

    result = site.manage("shell", "--no-imports", "-c", ERASE_INQUIRY.format(reference=reference))

    assert json.loads(result.stdout.splitlines()[-1]) is None
    assert "Error calling" in result.stderr and "in on_commit()" in result.stderr  # logged
    assert site.run(DESCRIBE_INQUIRIES)[reference]["erased"]
    (line,) = site.erasure_log.read_text().splitlines()
    assert json.loads(line)["reference"] == reference
