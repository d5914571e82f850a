"""Medical records go only through Django's Storage API: on a storage that offers no ``path()`` (as
object storage does not), uploads, held files, downloads, erasure and the orphan sweep work the same;
and the local-disk storage writes whole files, privately, and leaves no empty folder behind."""

import datetime
import os
import stat
import time
import uuid

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from clinic_portal.storage import PrivateFileSystemStorage
from inquiries import uploads
from inquiries.models import Attachment, HeldUpload, Inquiry, InquiryStatus
from inquiries.services import inquiry_transition
from operations import health
from tests.support.patients import (
    follow_up_url_from,
    path_of,
    pdf_bytes,
    stored_files,
    submit,
    upload,
    valid_data,
)


@pytest.fixture
def storage_without_paths(settings):
    """Every private file in memory: any call of ``path()`` fails the test."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tests.support.storage.StorageWithoutPaths"},
    }
    with pytest.raises(NotImplementedError):
        default_storage.path("inquiries/x.pdf")
    return default_storage


def names_in(folder):
    return sorted(uploads.stored_names(folder))


def test_a_request_with_files_kept_after_an_error_then_sent_downloaded_and_erased(
    client, demo, settings, storage_without_paths, lead, django_capture_on_commit_callbacks
):
    key = str(uuid.uuid4())
    first_try = submit(client, files=[upload("mri.pdf", pdf_bytes())], phone="12", submission_key=key)
    assert first_try.status_code == 400
    held = HeldUpload.objects.get()
    assert names_in("held") == [held.file.name]

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/en/inquiries/new/", valid_data(submission_key=key)).status_code == 302
    inquiry = Inquiry.objects.get()
    attachment = inquiry.attachments.get()
    assert names_in("inquiries") == [attachment.file.name]
    assert names_in("held") == []
    assert stored_files(settings) == []  # nothing on the local disk

    link = follow_up_url_from(next(email for email in mail.outbox if inquiry.email in email.to))
    download = client.get(path_of(link) + f"files/{attachment.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == pdf_bytes()

    from tests.support.staff import signed_in

    with django_capture_on_commit_callbacks(execute=True):
        signed_in(lead).post(
            "/admin/inquiries/inquiry/",
            {"action": "erase_personal_data", "_selected_action": [str(inquiry.pk)]},
        )
    assert Attachment.objects.count() == 0
    assert names_in("inquiries") == []


def test_the_sweep_removes_old_orphans_only(
    storage_without_paths, demo, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit(client, files=[upload("mri.pdf", pdf_bytes())])
    attached = Attachment.objects.get().file.name
    old_orphan = uploads.store_file("inquiries/2020/lost/old.pdf", b"%PDF-old")
    new_orphan = uploads.store_file("inquiries/2020/lost/new.pdf", b"%PDF-new")
    an_hour_on = time.time() + 3600 + 60
    # The in-memory storage dates files when written: the old one is made old.
    storage_without_paths._resolve(old_orphan).modified_time = timezone.now() - datetime.timedelta(hours=2)
    removed = uploads.sweep_orphans(Attachment.objects.values_list("file", flat=True), now=time.time())
    assert removed == 1
    assert names_in("inquiries") == sorted([attached, new_orphan])
    assert uploads.sweep_orphans([attached], now=an_hour_on) == 1  # the new one, an hour later
    assert names_in("inquiries") == [attached]


def test_purge_and_a_failed_request_leave_nothing(
    storage_without_paths, demo, client, coordinator, django_capture_on_commit_callbacks
):
    with pytest.raises(RuntimeError), uploads.removed_on_failure():
        uploads.store_file("inquiries/2026/abc/scan.pdf", b"%PDF-1")
        raise RuntimeError("the request failed after storing its file")
    assert names_in("inquiries") == []

    submit(client, files=[upload("mri.pdf", pdf_bytes())])
    inquiry = Inquiry.objects.get()
    inquiry_transition(inquiry=inquiry, to=InquiryStatus.CLOSED, by=coordinator, closing_reason="booked")
    Inquiry.objects.filter(pk=inquiry.pk).update(closed_at=timezone.now() - datetime.timedelta(days=400))
    with django_capture_on_commit_callbacks(execute=True):  # files go once the erasure is committed
        call_command("purge_inquiries", days=365, verbosity=0)
    assert names_in("inquiries") == []


def test_the_readiness_check_writes_to_object_storage(storage_without_paths):
    assert health.media_storage() == health.Check(True, "object storage")
    assert names_in("health") == []


def test_backups_refuse_object_storage_and_say_what_to_do_instead(storage_without_paths, tmp_path):
    from operations.backups import BackupError, make_backup

    with pytest.raises(BackupError, match="object storage"):
        make_backup(tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- the local disk ---------------------------------------------------------------------------------


def test_local_files_are_private_whole_and_leave_no_empty_folder(tmp_path):
    storage = PrivateFileSystemStorage(location=tmp_path)
    name = storage.save("inquiries/2026/abc/scan.pdf", ContentFile(b"%PDF-1"))
    assert name == "inquiries/2026/abc/scan.pdf"
    path = tmp_path / name
    assert path.read_bytes() == b"%PDF-1"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [entry.name for entry in path.parent.iterdir()] == ["scan.pdf"]  # no temporary file left
    storage.save("inquiries/2026/other/x.pdf", ContentFile(b"%PDF-2"))

    storage.delete(name)
    assert not (tmp_path / "inquiries/2026/abc").exists()  # its emptied folder went with it
    assert (tmp_path / "inquiries/2026/other/x.pdf").exists()
    assert tmp_path.exists()


def test_a_local_write_that_fails_leaves_neither_file_nor_folder(tmp_path, monkeypatch):
    storage = PrivateFileSystemStorage(location=tmp_path)

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError):
        storage.save("inquiries/2026/abc/scan.pdf", ContentFile(b"%PDF-1"))
    assert list(tmp_path.rglob("*")) == []
