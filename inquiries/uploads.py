"""Checking and storing medical-record uploads.

The type is decided from the file's content, never its name or the browser's header. Images are
re-encoded, which drops EXIF (location) data and anything appended after the image. Files are read
and written only through the Storage API: local disk by default, written whole or not at all
(clinic_portal/storage.py), or object storage. A storage that refuses writes (full, read-only)
raises ``StorageUnavailable``; what a failed request had written by then is removed again
(``removed_on_failure``).
"""

import contextlib
import errno
import hashlib
import io
import logging
import os
import time
from contextvars import ContextVar
from dataclasses import dataclass, field

import filetype
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ALLOWED_TYPES = {"application/pdf", "image/jpeg", "image/png"}
EXTENSIONS = {"application/pdf": {".pdf"}, "image/jpeg": {".jpg", ".jpeg"}, "image/png": {".png"}}
# A 20-megapixel photo is larger than any phone camera's; decoding one takes about 80 MB. The size is
# read from the header before any pixel is decoded, and files are decoded one after another.
MAX_IMAGE_PIXELS = 20_000_000
# What a full, over-quota, read-only or failing disk answers; anything else is a bug, not an outage.
STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EFBIG, errno.EIO}

logger = logging.getLogger(__name__)


class StorageUnavailable(Exception):
    """Private storage refused a write: the disk is full, over quota, read-only or failing."""


@dataclass(frozen=True)
class CleanUpload:
    name: str
    content_type: str
    data: bytes

    @property
    def sha256(self):
        return hashlib.sha256(self.data).hexdigest()


def clean_upload(upload):
    """Validate one uploaded file and return its safe content, or raise ValidationError."""
    name = os.path.basename(upload.name or "")[:200] or "file"
    if upload.size == 0:
        raise ValidationError(_("“%(name)s” is empty."), code="empty", params={"name": name})
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            _("“%(name)s” is too large (%(size)s). Each file may be at most %(limit)s."),
            code="too_large",
            params={
                "name": name,
                "size": filesizeformat(upload.size),
                "limit": filesizeformat(MAX_ATTACHMENT_BYTES),
            },
        )
    upload.seek(0)
    data = upload.read()
    kind = filetype.guess(data)
    content_type = kind.mime if kind else ""
    if content_type not in ALLOWED_TYPES:
        raise ValidationError(
            _("“%(name)s” is not a PDF, JPEG or PNG file. Only these file types are accepted."),
            code="bad_type",
            params={"name": name},
        )
    extension = os.path.splitext(name)[1].lower()
    if extension and extension not in EXTENSIONS[content_type]:
        raise ValidationError(
            _(
                "“%(name)s” is named like a %(extension)s file but its content is different. "
                "Please check the file."
            ),
            code="mismatch",
            params={"name": name, "extension": extension},
        )
    if content_type == "application/pdf":
        if b"%%EOF" not in data[-2048:]:
            raise ValidationError(
                _("“%(name)s” is not a complete PDF file."), code="bad_pdf", params={"name": name}
            )
        return CleanUpload(name=name, content_type=content_type, data=data)
    return CleanUpload(name=name, content_type=content_type, data=_reencode_image(data, content_type, name))


def _too_many_pixels(name):
    return ValidationError(
        ngettext_lazy(
            "“%(name)s” is too large an image: at most %(megapixels)d megapixel is accepted.",
            "“%(name)s” is too large an image: at most %(megapixels)d megapixels are accepted.",
            "megapixels",
        ),
        code="too_many_pixels",
        params={"name": name, "megapixels": MAX_IMAGE_PIXELS // 1_000_000},
    )


def _reencode_image(data, content_type, name):
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise _too_many_pixels(name)
            image.load()
            # Keep the photo upright, then save the pixels alone: no EXIF, no trailing data.
            clean = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError as error:
        # Pillow's own guard, for a header it refuses to open at all.
        raise _too_many_pixels(name) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValidationError(
            _("“%(name)s” could not be read as an image."), code="bad_image", params={"name": name}
        ) from error
    output = io.BytesIO()
    if content_type == "image/jpeg":
        if clean.mode not in ("RGB", "L"):
            clean = clean.convert("RGB")
        clean.save(output, format="JPEG", quality=90, optimize=True)
    else:
        clean.save(output, format="PNG", optimize=True)
    return output.getvalue()


def held_upload_path(submission_key, upload_id, content_type):
    extension = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}[content_type]
    return f"held/{submission_key}/{upload_id}{extension}"


def read_file(name):
    with default_storage.open(name, "rb") as handle:
        return handle.read()


@dataclass
class _Written:
    """Files stored during one request."""

    names: list = field(default_factory=list)

    def remove(self):
        delete_files(self.names)


_written_in_this_request = ContextVar("written_in_this_request", default=None)


@contextlib.contextmanager
def removed_on_failure():
    """If the block fails, the files ``store_file`` wrote in it are removed again (and the folders
    left empty): a failed request leaves nothing in storage (its rows are rolled back by the caller)."""
    enclosing = _written_in_this_request.get()
    written = _Written()
    token = _written_in_this_request.set(written)
    try:
        yield
    except BaseException:
        written.remove()
        raise
    else:
        if enclosing is not None:  # an enclosing block that fails later removes these too
            enclosing.names += written.names
    finally:
        _written_in_this_request.reset(token)


def store_file(name, data):
    """Write data to private storage, whole or not at all (see clinic_portal/storage.py).

    Raises ``StorageUnavailable`` when the storage refuses the write.
    """
    try:
        stored = default_storage.save(name, ContentFile(data))
    except OSError as error:
        if error.errno in STORAGE_ERRNOS:
            raise _storage_unavailable(errno.errorcode.get(error.errno, str(error.errno))) from error
        raise
    except Exception as error:
        if isinstance(default_storage, FileSystemStorage):
            raise
        # Object storage answers an outage or a refusal with its client's own errors.
        raise _storage_unavailable(type(error).__name__) from error
    if (written := _written_in_this_request.get()) is not None:
        written.names.append(stored)
    return stored


def _storage_unavailable(reason):
    # The reason only: the name is a patient's request's, and operators need to act on the storage.
    logger.error("Private storage refused a write (%s); the upload was not stored", reason)
    return StorageUnavailable(reason)


def delete_files(names):
    """Delete files from private storage (a missing one is not an error)."""
    for name in names:
        default_storage.delete(name)


def stored_names(folder):
    """Every file under a folder of private storage, as names the storage knows."""
    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for file_name in files:
        yield f"{folder}/{file_name}"
    for subfolder in folders:
        yield from stored_names(f"{folder}/{subfolder}")


def sweep_orphans(known_names, *, folder="inquiries", older_than_seconds=3600, now=None):
    """Delete files under a folder of private storage that no row points to. Returns their count."""
    known = set(known_names)
    now = now or time.time()
    removed = 0
    for name in list(stored_names(folder)):
        if name in known:
            continue
        if now - default_storage.get_modified_time(name).timestamp() > older_than_seconds:
            default_storage.delete(name)
            removed += 1
    return removed
