"""Backups of the database and the private media (medical records), and their restore.

A backup is one folder, ``backup-YYYYmmddTHHMMSSZ``, holding the database (``database.pgdump``, in
pg_dump's custom format, or ``database.sqlite3``), ``media.tar`` (every regular file under MEDIA_ROOT,
named relative to it) and ``manifest.json`` (when, which engine, counts, and each part's sha256).

Consistency: the database is dumped first, the files copied after. A file is written before the row
that refers to it commits and is never changed in place, so every file the dump refers to exists when
the files are copied, unless its inquiry was erased in between (or, a held file, discarded). The
erasure log covers that case, as it covers every erasure made after the backup: a restore erases those
inquiries again.

Completeness: every file the dump refers to is checked against what went into ``media.tar``. A missing
file that was not erased (or discarded) in between means the media root is not the one the database
belongs to (an unmounted volume, a wrong MEDIA_ROOT): the backup fails, and no older backup is removed.
Any failure ends in a BackupError; a backup that failed leaves no folder behind and removes nothing.
"""

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import uuid
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import DatabaseError, InterfaceError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from clinic_portal.storage import on_local_disk
from inquiries.erasures import BATCH_SIZE, ErasureLogError, logged_erasures, reapply_erasures
from inquiries.models import Attachment, HeldUpload, Inquiry
from inquiries.uploads import sweep_orphans

MANIFEST = "manifest.json"
MEDIA_PART = "media.tar"
DATABASE_PARTS = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
MANIFEST_FORMAT = 1
BACKUP_NAME = re.compile(r"^backup-\d{8}T\d{6}Z$")
INCOMPLETE_PREFIX = ".incomplete-"
CHUNK_BYTES = 1024 * 1024
# Connection settings handed to pg_dump and pg_restore in their environment, never on the command line.
POSTGRES_ENVIRONMENT = {
    "NAME": "PGDATABASE",
    "HOST": "PGHOST",
    "PORT": "PGPORT",
    "USER": "PGUSER",
    "PASSWORD": "PGPASSWORD",
}
POSTGRES_OPTION_ENVIRONMENT = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "service": "PGSERVICE",
    "passfile": "PGPASSFILE",
}


class BackupError(Exception):
    """A backup cannot be made or restored; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: dict
    pruned: list
    incomplete: list


@dataclass(frozen=True)
class Dumped:
    """What the dump holds: its counts, and the files its rows refer to."""

    counts: dict
    attachment_files: dict  # file name: the inquiry's id
    held_files: dict  # file name: the held upload's id


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: dict

    @property
    def database_part(self):
        return self.path / DATABASE_PARTS[self.manifest["engine"]]

    @property
    def media_part(self):
        return self.path / MEDIA_PART


@dataclass(frozen=True)
class RestoreReport:
    inquiries: int
    inquiries_in_backup: int
    attachments: int
    files_present: int
    erasures_reapplied: int
    migrations_applied: int
    held_uploads_dropped: int
    orphaned_files_removed: int
    problems: list


# --- Making a backup ---------------------------------------------------------------------------------


def make_backup(backup_dir=None, keep=None):
    """Write a new complete backup folder into ``backup_dir``, then keep only the newest ``keep``."""
    backup_dir = Path(backup_dir or settings.BACKUP_DIR)
    keep = settings.BACKUP_KEEP if keep is None else keep
    if keep < 1:
        raise BackupError("Keep at least 1 backup: the one just made is always kept.")
    if not on_local_disk(default_storage):
        raise BackupError(
            "Medical records are kept in object storage (PRIVATE_STORAGE_BUCKET), which this command does "
            "not copy: back the database up with PostgreSQL's own tools and keep the bucket versioned. "
            "This command backs up a site that keeps its files on the local disk (MEDIA_ROOT)."
        )
    engine = database_engine()
    created_at = datetime.now(UTC).replace(microsecond=0)
    with private_files(), _failures_explained():
        backup_dir.mkdir(parents=True, exist_ok=True)
        final = backup_dir / f"backup-{created_at:%Y%m%dT%H%M%SZ}"
        if final.exists():
            raise BackupError(f"{final} already exists. Wait a second and run the backup again.")
        incomplete = Path(tempfile.mkdtemp(prefix=INCOMPLETE_PREFIX, dir=backup_dir))
        try:
            manifest = _write_parts(incomplete, engine, created_at)
            _complete(incomplete, final)
        except BaseException:
            shutil.rmtree(incomplete, ignore_errors=True)
            raise
    # Only now, with the new backup complete, may older ones go: a failed backup has raised by here.
    return BackupResult(
        path=final,
        manifest=manifest,
        pruned=prune_backups(backup_dir, keep, just_made=final),
        incomplete=incomplete_backups(backup_dir),
    )


def database_engine():
    if connection.vendor not in DATABASE_PARTS:
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {connection.vendor}.")
    return connection.vendor


@contextmanager
def _failures_explained():
    """A database or disk failure as a BackupError: a clear message, not a traceback."""
    try:
        yield
    except (DatabaseError, InterfaceError, sqlite3.Error) as error:
        raise BackupError(f"The database could not be backed up: {str(error).strip()}") from error
    except OSError as error:
        raise BackupError(f"The backup could not be written, or the files read: {error}") from error


@contextmanager
def private_files():
    """Files and folders made inside are readable by their owner only: they hold health data."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def _write_parts(folder, engine, created_at):
    database_part = folder / DATABASE_PARTS[engine]
    media_root = Path(settings.MEDIA_ROOT)
    # The database first, then the files: see the module's docstring.
    dumped = _dump_postgresql(database_part) if engine == "postgresql" else _dump_sqlite(database_part)
    archived = _archive_media(media_root, folder / MEDIA_PART)
    counts = {**dumped.counts, "media_files": len(archived), **_check_files(dumped, archived, media_root)}
    manifest = {
        "format": MANIFEST_FORMAT,
        "created_at": created_at.isoformat().replace("+00:00", "Z"),
        "engine": engine,
        "counts": counts,
        "parts": {part.name: _describe(part) for part in (database_part, folder / MEDIA_PART)},
    }
    _write_json(folder / MANIFEST, manifest)
    return manifest


def _complete(incomplete, final):
    _fsync(incomplete)
    try:
        incomplete.rename(final)
    except OSError as error:
        raise BackupError(f"Could not name the backup {final}: {error}") from error
    _fsync(final.parent)


def _dump_postgresql(target):
    pg_dump = _program("pg_dump")
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        # This session waits, idle in its transaction, for as long as pg_dump runs: the site's timeouts,
        # meant for requests, would end it (and fail the backup) after a few seconds.
        cursor.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
        cursor.execute("SET LOCAL statement_timeout = 0")
        cursor.execute("SET LOCAL lock_timeout = 0")
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
        # Read in the snapshot pg_dump dumps: the counts and the files checked are exactly the dump's.
        dumped = Dumped(
            counts={"inquiries": Inquiry.objects.count(), "attachments": Attachment.objects.count()},
            attachment_files=_files(Attachment.objects.order_by().values_list("file", "inquiry_id")),
            held_files=_files(HeldUpload.objects.order_by().values_list("file", "pk")),
        )
        with open(target, "xb") as output:
            _run_postgres_program([pg_dump, "--format=custom", f"--snapshot={snapshot}"], stdout=output)
            os.fsync(output.fileno())
    return dumped


def _dump_sqlite(target):
    target.touch(exist_ok=False)
    connection.ensure_connection()
    with closing(sqlite3.connect(target)) as copy:
        # SQLite's online backup: a consistent copy even while the site writes. Counts and files are
        # read from the copy.
        connection.connection.backup(copy)
        dumped = Dumped(
            counts={"inquiries": _count_rows(copy, Inquiry), "attachments": _count_rows(copy, Attachment)},
            attachment_files=_files(_rows(copy, Attachment, "file", "inquiry")),
            held_files=_files(_rows(copy, HeldUpload, "file", "id")),
        )
    _fsync(target)
    return dumped


def _files(rows):
    """{file name: id} from (file name, id) rows; ids as UUIDs (SQLite stores them as hex)."""
    return {
        PurePosixPath(name).as_posix(): key if isinstance(key, uuid.UUID) else uuid.UUID(key)
        for name, key in rows
        if name
    }


def _count_rows(sqlite_connection, model):
    table = connection.ops.quote_name(model._meta.db_table)
    return sqlite_connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 (a model's table)


def _rows(sqlite_connection, model, *fields):
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(model._meta.get_field(name).column) for name in fields)
    return sqlite_connection.execute(f"SELECT {columns} FROM {table}").fetchall()  # noqa: S608 (a model's columns)


def _archive_media(media_root, target):
    """Every regular file under the media root into a tar, by relative name. Returns their names."""
    names = set()
    with tarfile.open(target, "x", format=tarfile.PAX_FORMAT) as archive:
        for path in _regular_files(media_root):
            name = path.relative_to(media_root).as_posix()
            if _add_to_archive(archive, path, name):
                names.add(name)
    _fsync(target)
    return names


def _check_files(dumped, archived, media_root):
    """Raises BackupError unless every file the dump refers to is in the archive, or was erased (its
    inquiry is erased now) or discarded (its held upload is gone now) since the dump. Counts those."""
    attachments = {name: inquiry for name, inquiry in dumped.attachment_files.items() if name not in archived}
    held = {name: upload for name, upload in dumped.held_files.items() if name not in archived}
    erased = _existing(Inquiry.objects.filter(anonymised_at__isnull=False), set(attachments.values()))
    still_held = _existing(HeldUpload.objects.all(), set(held.values()))
    missing = sum(1 for inquiry in attachments.values() if inquiry not in erased) + sum(
        1 for upload in held.values() if upload in still_held
    )
    if missing:
        total = len(dumped.attachment_files) + len(dumped.held_files)
        raise BackupError(
            f"{missing} of the {total} files the database refers to are not in the media root "
            f"{media_root}. Is its volume mounted, and is MEDIA_ROOT this site's? The backup would be "
            "incomplete, so none was made."
        )
    return {"files_erased_meanwhile": len(attachments), "held_files_discarded_meanwhile": len(held)}


def _existing(queryset, ids):
    """Which of the ids the queryset has, asked in batches (SQLite limits a query's parameters)."""
    ids = sorted(ids)
    found = set()
    for start in range(0, len(ids), BATCH_SIZE):
        found.update(queryset.filter(pk__in=ids[start : start + BATCH_SIZE]).values_list("pk", flat=True))
    return found


def _regular_files(root):
    for folder, folders, names in os.walk(root):
        folders.sort()
        for name in sorted(names):
            path = Path(folder) / name
            if not _is_upload_being_written(name) and path.is_file() and not path.is_symlink():
                yield path


def _is_upload_being_written(name):
    # inquiries.uploads writes under this temporary name and renames before the row commits: no row
    # of the dump can refer to such a file.
    return name.startswith(".upload-") and name.endswith(".part")


def _add_to_archive(archive, path, name):
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return 0  # erased since the folder was listed; the erasure log covers it
    with os.fdopen(descriptor, "rb") as handle:
        member = archive.gettarinfo(arcname=name, fileobj=handle)
        member.mode, member.uid, member.gid, member.uname, member.gname = 0o600, 0, 0, "", ""
        archive.addfile(member, handle)
    return 1


def _describe(path):
    return {"sha256": _sha256(path), "bytes": path.stat().st_size}


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _stored_sha256(name):
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json(path, data):
    with open(path, "x", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def _fsync(path):
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def complete_backups(backup_dir):
    """The complete backups in a folder, oldest first."""
    if not backup_dir.is_dir():
        return []
    return sorted(
        path
        for path in backup_dir.iterdir()
        if BACKUP_NAME.match(path.name) and (path / MANIFEST).is_file() and not path.is_symlink()
    )


def incomplete_backups(backup_dir):
    return sorted(path for path in backup_dir.iterdir() if path.name.startswith(INCOMPLETE_PREFIX))


def prune_backups(backup_dir, keep, just_made=None):
    """Delete all but the newest ``keep`` complete backups; never the one just made. Returns them."""
    older = [path for path in complete_backups(backup_dir)[:-keep] if path != just_made]
    for path in older:
        shutil.rmtree(path)
    return older


# --- PostgreSQL programs -----------------------------------------------------------------------------


def _program(name):
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed. Install the PostgreSQL client programs of the server's version."
        )
    return path


def _postgres_environment():
    database = connection.settings_dict
    environment = dict(os.environ)
    for setting, variable in POSTGRES_ENVIRONMENT.items():
        if database.get(setting):
            environment[variable] = str(database[setting])
    for option, variable in POSTGRES_OPTION_ENVIRONMENT.items():
        if database["OPTIONS"].get(option):
            environment[variable] = str(database["OPTIONS"][option])
    return environment


def _run_postgres_program(arguments, **options):
    completed = subprocess.run(  # noqa: S603 (fixed arguments; connection settings in the environment)
        [*arguments, "--no-password"],
        env=_postgres_environment(),
        stderr=subprocess.PIPE,
        check=False,
        **options,
    )
    if completed.returncode != 0:
        message = completed.stderr.decode(errors="replace").strip()
        raise BackupError(f"{Path(arguments[0]).name} failed:\n{message}")


# --- Restoring ---------------------------------------------------------------------------------------


def open_backup(path):
    """A complete, intact backup of this site's database engine; raises BackupError otherwise."""
    path = Path(path)
    manifest = _read_manifest(path)
    engine = database_engine()
    if manifest.get("engine") != engine:
        raise BackupError(
            f"{path} is a backup of a {manifest.get('engine')} database; this site uses {engine}."
        )
    backup = Backup(path=path, manifest=manifest)
    for part in (backup.database_part, backup.media_part):
        _verify_checksum(part, manifest)
    _check_media_members(backup.media_part)
    return backup


def _read_manifest(path):
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise BackupError(f"{path} is not a complete backup: it has no {MANIFEST}.") from error
    except ValueError as error:
        raise BackupError(f"The {MANIFEST} of {path} cannot be read: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise BackupError(f"The {MANIFEST} of {path} is not one this version can restore.")
    return manifest


def _verify_checksum(part, manifest):
    expected = manifest.get("parts", {}).get(part.name, {}).get("sha256")
    if expected is None:
        raise BackupError(f"The {MANIFEST} of {part.parent} has no checksum for {part.name}.")
    if not part.is_file():
        raise BackupError(f"{part} is missing: the backup is incomplete.")
    if _sha256(part) != expected:
        raise BackupError(
            f"{part} does not match its checksum in {MANIFEST}: the backup is damaged or was altered. "
            "Nothing was restored; restore another backup."
        )


def _check_media_members(archive_path):
    """Refuses an archive with any member that is not a plain file inside the media root."""
    seen = set()
    try:
        with tarfile.open(archive_path) as archive:
            for member in archive:
                problem = _unsafe_member(member, seen)
                if problem:
                    raise BackupError(
                        f"{archive_path} is unsafe to extract: its member {member.name!r} {problem}. "
                        "Nothing was restored."
                    )
                seen.add(member.name)
    except tarfile.TarError as error:
        raise BackupError(f"{archive_path} cannot be read: {error}") from error


def _unsafe_member(member, seen):
    name = PurePosixPath(member.name)
    if not member.isfile():
        return "is not a regular file"
    if name.is_absolute():
        return "has an absolute path"
    if ".." in name.parts:
        return "has '..' in its path"
    if member.name in seen:
        return "appears twice"
    return None


def check_restore_target():
    """Refuses to restore over data: the database must have no inquiries, the media root no files."""
    if _database_has_inquiries():
        raise BackupError(
            f"The database {connection.settings_dict['NAME']} already has inquiries. Restore only into "
            "an empty database: create a new one, point DATABASE_URL at it and run restore again."
        )
    media_root = Path(settings.MEDIA_ROOT)
    if any(names for _, _, names in os.walk(media_root)):
        raise BackupError(
            f"The media root {media_root} already has files. Restore only into an empty folder: "
            "point MEDIA_ROOT at a new one (or move the files away) and run restore again."
        )
    try:
        logged_erasures()
    except ErasureLogError as error:
        raise BackupError(str(error)) from error


def _database_has_inquiries():
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    return Inquiry._meta.db_table in tables and Inquiry.objects.exists()


def restore_backup(backup):
    """Restore an opened backup into the empty database and media root, then erase again what the
    erasure log says was erased after it. The report lists any attachment left without its file."""
    if not on_local_disk(default_storage):
        raise BackupError(
            "Medical records are kept in object storage (PRIVATE_STORAGE_BUCKET): restore the database with "
            "PostgreSQL's own tools and the files from the bucket's versions."
        )
    media_root = Path(settings.MEDIA_ROOT)
    with private_files():
        if backup.manifest["engine"] == "postgresql":
            _restore_postgresql(backup.database_part)
        else:
            _restore_sqlite(backup.database_part)
        connection.close()
        ContentType.objects.clear_cache()  # the cached ids are the empty database's
        migrations_applied = _apply_pending_migrations()
        _extract_media(backup.media_part, media_root)
    erasures_reapplied = reapply_erasures()
    held_uploads_dropped = _drop_held_uploads_without_files()
    orphaned_files_removed = _remove_orphaned_files()
    inquiries = Inquiry.objects.count()
    inquiries_in_backup = backup.manifest["counts"]["inquiries"]
    problems = _attachments_without_their_file()
    if inquiries != inquiries_in_backup:
        problems.insert(0, f"the backup had {inquiries_in_backup} inquiries, the database has {inquiries}")
    return RestoreReport(
        inquiries=inquiries,
        inquiries_in_backup=inquiries_in_backup,
        attachments=Attachment.objects.count(),
        files_present=sum(1 for _ in _regular_files(media_root)),
        erasures_reapplied=erasures_reapplied,
        migrations_applied=migrations_applied,
        held_uploads_dropped=held_uploads_dropped,
        orphaned_files_removed=orphaned_files_removed,
        problems=problems,
    )


def _restore_postgresql(dump):
    pg_restore = _program("pg_restore")
    connection.close()
    # --clean --if-exists: the target may be a new database or a migrated one without inquiries.
    # --single-transaction: a failed restore leaves the database as it was.
    _run_postgres_program(
        [
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={connection.settings_dict['NAME']}",
            str(dump),
        ]
    )


def _restore_sqlite(copy):
    connection.close()
    target = Path(connection.settings_dict["NAME"])
    # The copy goes in through SQLite's backup API rather than a file copy: it replaces the whole
    # database safely even if the file is open or has a journal.
    with (
        closing(sqlite3.connect(f"{copy.resolve().as_uri()}?mode=ro", uri=True)) as source,
        closing(sqlite3.connect(target)) as destination,
    ):
        source.backup(destination)
    target.chmod(0o600)


def _apply_pending_migrations():
    """A backup made before the latest migrations gets them, so this release's code can use it."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        call_command("migrate", interactive=False, verbosity=0)
    return len(plan)


def _extract_media(archive_path, media_root):
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive_path) as archive:
        for member in archive:
            _extract_file(archive, member, media_root.joinpath(*PurePosixPath(member.name).parts))


def _extract_file(archive, member, target):
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "wb") as output, archive.extractfile(member) as source:
        shutil.copyfileobj(source, output, CHUNK_BYTES)
        output.flush()
        os.fsync(output.fileno())
    os.utime(target, (member.mtime, member.mtime))


def _drop_held_uploads_without_files():
    """Held files discarded between the dump and the copy of the files: forget their rows too."""
    missing = [held.pk for held in HeldUpload.objects.all() if not default_storage.exists(held.file.name)]
    HeldUpload.objects.filter(pk__in=missing).delete()
    return len(missing)


def _remove_orphaned_files():
    """Files no restored row refers to: of requests made after the dump, or erased before it."""
    removed = sweep_orphans(Attachment.objects.values_list("file", flat=True), older_than_seconds=0)
    return removed + sweep_orphans(
        HeldUpload.objects.values_list("file", flat=True), folder="held", older_than_seconds=0
    )


def _attachments_without_their_file():
    problems = []
    for attachment in Attachment.objects.select_related("inquiry").order_by("inquiry__reference", "pk"):
        if not default_storage.exists(attachment.file.name):
            problems.append(f"{attachment.inquiry.reference}: {attachment.file.name} is missing")
        elif attachment.sha256 and _stored_sha256(attachment.file.name) != attachment.sha256:
            problems.append(f"{attachment.inquiry.reference}: {attachment.file.name} differs from the upload")
    return problems
