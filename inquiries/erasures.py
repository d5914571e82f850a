"""The erasure log: which inquiries were erased, and when. No personal data.

A backup holds the data of every inquiry erased after it was made. The log, kept on other storage than
the backups, lets a restore erase those inquiries again (``manage.py restore`` calls
``reapply_erasures``).

An erasure is logged inside its transaction, before it commits: an erasure that cannot be logged is not
made. If the transaction then rolls back, the log names an inquiry that was not erased; re-applying the
log erases it, as was asked, and leaves alone what is already erased or not there.
"""

import contextvars
import json
import os
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from inquiries.models import Inquiry

BATCH_SIZE = 500  # ids per query: SQLite limits the parameters of one

# Erasures made while the log is being re-applied are in the log already.
_reapplying = contextvars.ContextVar("reapplying_erasures", default=False)


class ErasureLogError(Exception):
    pass


def erasure_log_path():
    return Path(settings.ERASURE_LOG)


def log_erasure(inquiry):
    """Append one line for an erased inquiry, on disk before this returns.

    Raises ErasureLogError if the log cannot be written (missing folder that cannot be made, full or
    read-only disk): the caller's transaction must then roll the erasure back.
    """
    if _reapplying.get():
        return
    line = json.dumps(
        {"inquiry": str(inquiry.pk), "reference": inquiry.reference, "erased_at": timezone.now().isoformat()}
    )
    path = erasure_log_path()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            # One write of one line: appends from concurrent processes do not interleave.
            os.write(descriptor, (line + "\n").encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except OSError as error:
        raise ErasureLogError(
            f"The erasure log {path} cannot be written ({error.strerror or error}), so nothing was erased. "
            "Make it writable (or set ERASURE_LOG to a writable file on other storage than the backups) "
            "and erase again."
        ) from error


def logged_erasures():
    """The ids of the inquiries in the log. Raises ErasureLogError if it is missing or unreadable."""
    path = erasure_log_path()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as error:
        raise ErasureLogError(
            f"There is no erasure log at {path}. Without it a restore would bring back the data of "
            "inquiries erased after the backup. Put the log in place (or set ERASURE_LOG to it); if this "
            "site has never erased an inquiry, create an empty file there."
        ) from error
    return {_inquiry_id(line, number, path) for number, line in enumerate(lines, start=1) if line.strip()}


def _inquiry_id(line, number, path):
    try:
        return uuid.UUID(json.loads(line)["inquiry"])
    except (ValueError, KeyError, TypeError) as error:
        raise ErasureLogError(f"Line {number} of the erasure log {path} cannot be read: {line!r}") from error


def reapply_erasures():
    """Erase again every logged inquiry that is in the database but not erased. Returns their number.

    Inquiries the log names that are not in the database, or are erased already, are left alone (the
    log may name an erasure whose transaction rolled back after it was logged)."""
    # Imported here: inquiries.services imports this module to log its erasures.
    from inquiries.services import inquiry_anonymise

    ids = sorted(logged_erasures())
    token = _reapplying.set(True)
    try:
        erased = 0
        for start in range(0, len(ids), BATCH_SIZE):
            batch = ids[start : start + BATCH_SIZE]
            for inquiry in Inquiry.objects.filter(pk__in=batch, anonymised_at__isnull=True):
                inquiry_anonymise(inquiry=inquiry)
                erased += 1
        return erased
    finally:
        _reapplying.reset(token)
