"""Private storage of medical records on the local disk: whole files or none.

Django's FileSystemStorage writes a file in place, so a write that fails half-way (a full disk) leaves
a partial file behind. This storage writes to a temporary name in the same folder, flushes it to disk
and renames it into place; on failure it removes what it made, folders included. Deleting a file
removes the folders it leaves empty, so an erased request leaves no trace of its reference behind.

Code reads and writes medical records only through the Storage API (never ``path()``), so a
deployment may keep them in S3-compatible object storage instead (see the README).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.files.base import File
from django.core.files.storage import FileSystemStorage, Storage


class PrivateFileSystemStorage(FileSystemStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        super().__init__(*args, **kwargs)

    def _save(self, name: str, content: File[Any]) -> str:
        target = Path(self.path(name))
        created: list[Path] = []
        try:
            self._make_folders(target.parent, created)
            self._write_atomically(target, content)
        except BaseException:
            self._remove_empty_folders(reversed(created))
            raise
        return str(target.relative_to(self.location)).replace(os.sep, "/")

    def delete(self, name: str) -> None:
        super().delete(name)
        folder = Path(self.path(name)).parent
        root = Path(self.location)
        while folder != root and root in folder.parents:
            try:
                folder.rmdir()
            except OSError:  # not empty (another file, or a concurrent request's), or already gone
                return
            folder = folder.parent

    def _make_folders(self, folder: Path, created: list[Path]) -> None:
        """Make a folder and its missing parents, adding those made here to ``created`` (outermost first)."""
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for path in reversed(missing):
            try:
                path.mkdir(mode=self.directory_permissions_mode or 0o700)
            except FileExistsError:
                continue  # made by a concurrent request in the meantime: theirs, not ours to remove
            created.append(path)

    def _write_atomically(self, target: Path, content: File[Any]) -> None:
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".part")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                for chunk in content.chunks():
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, self.file_permissions_mode or 0o600)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @staticmethod
    def _remove_empty_folders(folders: Iterable[Path]) -> None:
        for folder in folders:
            with contextlib.suppress(OSError):  # not empty: another request stored a file there meanwhile
                folder.rmdir()


def on_local_disk(storage: Storage) -> bool:
    """Whether a storage keeps its files under a folder of this machine (backups copy that folder)."""
    return isinstance(storage, FileSystemStorage)
