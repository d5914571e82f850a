"""What follows a change to clinics (their search text, their match rows) is rebuilt once the
transaction commits, once per clinic however many changes touched it, and by the task worker when a
change touches many clinics."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from django.db import transaction
from django.utils.module_loading import import_string

# A change touching more clinics than this (a treatment offered everywhere renamed, a condition linked
# to a specialty, an import) is rebuilt by the task worker, not within the request.
BACKGROUND_REFRESH_THRESHOLD = 50


class RebuiltAtCommit:
    """``rebuild(clinic_ids)`` at the commit of the current transaction (at once outside one), or the
    task ``task`` (a dotted path; called with ``clinic_ids``) past the threshold.

    Ids left by a rolled-back transaction are rebuilt at the next commit of the thread, which is
    harmless: a rebuild reads the database as it is.
    """

    def __init__(self, rebuild: Callable[[set[int]], object], task: str) -> None:
        self.rebuild = rebuild
        self.task = task
        self._pending = threading.local()

    def __call__(self, *, clinic_ids: Iterable[int]) -> None:
        if clinic_ids:
            self._pending.__dict__.setdefault("clinic_ids", set()).update(clinic_ids)
            transaction.on_commit(self._rebuild_pending)

    def _rebuild_pending(self) -> None:
        clinic_ids = self._pending.__dict__.pop("clinic_ids", None)
        if not clinic_ids:
            return
        if len(clinic_ids) > BACKGROUND_REFRESH_THRESHOLD:
            import_string(self.task).enqueue(clinic_ids=sorted(clinic_ids))
        else:
            self.rebuild(clinic_ids)
