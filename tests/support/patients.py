"""What a patient sends: valid request data, files, and ways to read the emails they get back."""

import datetime
import io
import re
import uuid
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from PIL import Image


def pdf_bytes(padding=0):
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + b"0" * padding + b"\ntrailer << >>\n%%EOF\n"


def png_bytes(trailing=b""):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue() + trailing


def jpeg_with_gps():
    image = Image.new("RGB", (40, 30), (30, 30, 200))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (37.0, 33.0, 58.0)}  # GPS latitude
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def upload(name, data, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_files(settings):
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def valid_data(**overrides):
    data = {
        "full_name": "Aigerim Bekova",
        "email": "aigerim@example.com",
        "phone": "+7 701 234 5678",
        "contact_channel": "whatsapp",
        "contact_handle": "+77012345678",
        "country": "KZ",
        "language": "ru",
        "patient_relation": "family",
        "patient_age": "54",
        "condition": "clonus",
        "symptom_duration": "1_5_years",
        "diagnosis": "Multiple sclerosis since 2019",
        "medications": "Baclofen 10 mg three times a day",
        "message": "My mother has ankle clonus. Is an intrathecal baclofen pump an option?",
        "preferred_clinics": ["hanbit-neuroscience-hospital", "busan-haeundae-neuro-centre"],
        "travel_from": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
        "travel_until": (timezone.localdate() + datetime.timedelta(days=60)).isoformat(),
        "consent_health_data": "on",
        "submission_key": str(uuid.uuid4()),
        "website": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def submit(client, page_language="en", files=(), **overrides):
    data = valid_data(**overrides)
    if files:
        data["attachments"] = list(files)
    return client.post(f"/{page_language}/inquiries/new/", data)


def follow_up_url_from(email):
    return re.search(r"http://\S+/inquiries/follow-up/\S+/", email.body).group(0)


def path_of(url):
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def tr(language, message, **params):
    """A message as the page shows it in a language; a (singular, plural, n) tuple for plurals."""
    from django.template.defaultfilters import filesizeformat

    with translation.override(language):
        if isinstance(message, tuple):
            singular, plural, number = message
            return translation.ngettext(singular, plural, number) % {"limit": number, **params}
        params = {
            key: str(filesizeformat(value)) if key in ("size", "limit") else value
            for key, value in params.items()
        }
        text = translation.gettext(message)
        return text % params if params else text
