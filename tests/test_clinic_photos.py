"""Clinic photos: an upload checked by its content and stored re-encoded in a few widths, refused
uploads leaving nothing behind, files deleted with their photo, the photo on the public pages (in the
reader's language, in a constant number of queries), and the admin upload in a real Chromium."""

import errno
import io
import re
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import re_path
from django.views.static import serve
from PIL import Image

from clinic_portal import urls as site_urls
from clinics import photos
from clinics.forms import ClinicPhotoForm
from clinics.models import Clinic, ClinicPhoto, public_media_storage
from staff.roles import CLINIC_MANAGER
from tests.factories import make_clinic, make_condition
from tests.support.browser import browser_marks, staff_sign_in
from tests.support.staff import make_staff

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-staff-password"


def _public_media(request, path):
    return serve(request, path, document_root=settings.PUBLIC_MEDIA_ROOT)


# The site's pages, and the public media served as the web server serves them in production: the
# browser test sees the photos load.
urlpatterns = [re_path(r"^media/(?P<path>.+)$", _public_media), *site_urls.urlpatterns]


@pytest.fixture(autouse=True)
def public_media(settings, tmp_path, monkeypatch):
    root = tmp_path / "public-media"
    settings.PUBLIC_MEDIA_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "public": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": root, "base_url": settings.PUBLIC_MEDIA_URL},
        },
    }
    # The image field took its storage when the models were loaded: it gets the test's.
    monkeypatch.setattr(ClinicPhoto._meta.get_field("image"), "storage", public_media_storage())
    return root


def stored_files(root):
    return sorted(path for path in Path(root).rglob("*") if path.is_file()) if Path(root).exists() else []


def photo_bytes(size=(2000, 1500), image_format="JPEG", *, gps=False, orientation=None, mode="RGB"):
    image = Image.new(mode, size, "steelblue" if mode == "RGB" else 0)
    exif = Image.Exif()
    if gps:
        exif[0x010F] = "SpyCam"  # Make
        exif[0x8825] = {1: "N", 2: (37.0, 33.0, 58.0)}  # GPS latitude
    if orientation:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **({"exif": exif} if len(exif) else {}))
    return buffer.getvalue()


def alt_texts(**texts):
    return {f"alt_text_{code}": texts.get(code, "") for code, _name in settings.LANGUAGES}


def photo_form(clinic, data, name="entrance.jpg", *, instance=None, **alt):
    upload = SimpleUploadedFile(name, data, content_type="image/jpeg")
    return ClinicPhotoForm(
        {"subject": "building", "position": 0, **alt_texts(**{"en": "Main entrance", **alt})},
        {"image": upload},
        instance=instance or ClinicPhoto(clinic=clinic),
    )


def add_photo(clinic, data=None, position=0, **alt):
    form = photo_form(clinic, data or photo_bytes((40, 30)), **alt)
    form.data["position"] = position
    assert form.is_valid(), form.errors
    return form.save()


# --- the upload ----------------------------------------------------------------------------------


def test_an_uploaded_photo_is_stored_re_encoded_in_every_width_without_its_exif(public_media):
    clinic = make_clinic()
    original = photo_bytes((2000, 1500), gps=True)
    assert Image.open(io.BytesIO(original)).getexif()

    photo = add_photo(clinic, original)

    photo.refresh_from_db()
    assert set(photo.renditions) == {"image/webp", "image/jpeg"}
    for content_type, pil_format in (("image/webp", "WEBP"), ("image/jpeg", "JPEG")):
        assert sorted(photo.renditions[content_type], key=int) == ["480", "960", "1600"]
        for width, name in photo.renditions[content_type].items():
            data = (public_media / name).read_bytes()
            stored = Image.open(io.BytesIO(data))
            assert (stored.format, stored.width) == (pil_format, int(width))
            assert stored.height == int(width) * 3 // 4
            assert not stored.getexif()
            assert b"SpyCam" not in data
    # The image is the largest JPEG; the names tell nothing of the upload and cannot be guessed.
    assert photo.image.name == photo.renditions["image/jpeg"]["1600"]
    assert (photo.width, photo.height) == (1600, 1200)
    assert "entrance" not in photo.image.name
    assert re.fullmatch(r"clinic-photos/[\w-]{24}-1600\.jpg", photo.image.name)
    assert len(stored_files(public_media)) == 6


def test_a_small_photo_is_never_enlarged_and_is_turned_upright(public_media):
    # Taken sideways: 1200 × 600 pixels, the camera noting a quarter turn.
    photo = add_photo(make_clinic(), photo_bytes((1200, 600), orientation=6))

    assert sorted(photo.renditions["image/jpeg"], key=int) == ["480", "600"]
    assert sorted(photo.renditions["image/webp"], key=int) == ["480", "600"]
    assert (photo.width, photo.height) == (600, 1200)
    largest = Image.open(public_media / photo.image.name)
    assert largest.size == (600, 1200)


@pytest.mark.parametrize("image_format", ["PNG", "WEBP"])
def test_png_and_webp_photos_are_accepted_whatever_their_name(public_media, image_format):
    photo = add_photo(make_clinic(), photo_bytes((800, 600), image_format))
    assert Image.open(public_media / photo.image.name).format == "JPEG"


def test_a_text_file_named_like_a_photo_is_refused_and_nothing_is_saved(public_media):
    form = photo_form(make_clinic(), b"Just some notes, not a photo at all.\n" * 20, name="entrance.jpg")

    assert not form.is_valid()
    message = "This file is not a photo. Upload a JPEG, PNG or WebP image."
    assert form.errors["image"] == [message]
    # Named like a PNG, the header of a PDF: refused the same.
    other_form = photo_form(make_clinic(), b"%PDF-1.7 not a photo\n" * 20, name="entrance.png")
    assert other_form.errors["image"] == [message]
    assert ClinicPhoto.objects.count() == 0
    assert stored_files(public_media) == []


def test_an_image_with_too_many_pixels_is_refused_and_nothing_is_saved(public_media):
    # 48 megapixels: a small file (one colour), refused from its header before it is decoded.
    form = photo_form(make_clinic(), photo_bytes((8000, 6000), "PNG", mode="1"), name="plan.png")

    assert not form.is_valid()
    assert form.errors["image"] == [
        "The photo is too large. Upload one of at most 20.0\xa0MB and 40 megapixels."
    ]
    assert ClinicPhoto.objects.count() == 0
    assert stored_files(public_media) == []


def test_a_file_over_the_size_limit_is_refused(public_media, monkeypatch):
    monkeypatch.setattr(photos, "MAX_UPLOAD_BYTES", 10_000)
    data = photo_bytes((1200, 900))
    assert len(data) > 10_000

    form = photo_form(make_clinic(), data)

    assert not form.is_valid()
    assert form.errors["image"][0].startswith("The photo is too large.")
    assert stored_files(public_media) == []


def test_a_write_failing_half_way_leaves_no_file_and_no_photo(public_media, monkeypatch):
    storage = public_media_storage()
    real_save = storage._save
    calls = []

    def disk_full_on_the_fourth_file(name, content):
        calls.append(name)
        if len(calls) == 4:
            (public_media / name).write_bytes(b"half a file")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(name, content)

    monkeypatch.setattr(storage, "_save", disk_full_on_the_fourth_file)
    form = photo_form(make_clinic(), photo_bytes())
    assert form.is_valid()

    with pytest.raises(OSError):
        form.save()

    assert len(calls) == 4
    assert ClinicPhoto.objects.count() == 0
    assert stored_files(public_media) == []


# --- deleting and replacing ----------------------------------------------------------------------


def test_deleting_a_photo_deletes_its_files_once_committed(public_media, django_capture_on_commit_callbacks):
    clinic = make_clinic()
    kept = add_photo(clinic, en="Kept")
    photo = add_photo(clinic, photo_bytes((1000, 750)))
    kept_files = [public_media / name for name in photos.photo_files(kept.image.name, kept.renditions)]
    assert len(stored_files(public_media)) == 2 + 4

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        photo.delete()
    # Not before the deletion is committed: a rolled-back deletion keeps its photo whole.
    assert len(stored_files(public_media)) == 6
    for callback in callbacks:
        callback()

    assert len(stored_files(public_media)) == 2
    assert all(path.exists() for path in kept_files)


def test_replacing_a_photo_deletes_the_old_files_and_deleting_a_clinic_deletes_all(
    public_media, django_capture_on_commit_callbacks
):
    clinic = make_clinic()
    photo = add_photo(clinic)
    old_files = stored_files(public_media)

    with django_capture_on_commit_callbacks(execute=True):
        form = photo_form(clinic, photo_bytes((500, 400)), instance=photo)
        assert form.is_valid(), form.errors
        form.save()

    assert not any(path.exists() for path in old_files)
    assert len(stored_files(public_media)) == 2  # 500 pixels wide only (480 is too close), WebP and JPEG

    with django_capture_on_commit_callbacks(execute=True):
        Clinic.objects.filter(pk=clinic.pk).delete()
    assert stored_files(public_media) == []


# --- public pages --------------------------------------------------------------------------------


def page_text(response):
    assert response.status_code == 200
    return unescape(response.content.decode())


def pictures(html):
    return re.findall(r"<picture[^>]*>.*?</picture>", html, flags=re.S)


def test_the_arabic_clinic_page_shows_the_photo_with_its_arabic_text_alternative(client):
    clinic = make_clinic()
    photo = add_photo(clinic, photo_bytes((2000, 1500)), ar="المدخل الرئيسي للمستشفى")

    [picture] = pictures(page_text(client.get(f"/ar/clinics/{clinic.slug}/")))

    webp = photo.renditions["image/webp"]
    assert (
        f'<source type="image/webp" srcset="/media/{webp["480"]} 480w, /media/{webp["960"]} 960w, '
        f'/media/{webp["1600"]} 1600w"'
    ) in picture
    assert f'src="/media/{photo.image.name}"' in picture
    assert 'width="1600" height="1200"' in picture
    assert 'alt="المدخل الرئيسي للمستشفى"' in picture
    # Near the top of the page: fetched at once, not lazily.
    assert 'loading="lazy"' not in picture


def test_without_an_arabic_text_alternative_the_english_one_is_shown(client):
    clinic = make_clinic()
    add_photo(clinic)

    [picture] = pictures(page_text(client.get(f"/ar/clinics/{clinic.slug}/")))

    assert 'alt="Main entrance"' in picture


def test_the_directory_card_shows_the_clinic_s_first_photo(client):
    clinic = make_clinic()
    add_photo(clinic, position=2, en="Patient room")
    add_photo(clinic, position=1, en="Main entrance")
    make_clinic()  # without a photo

    [picture] = pictures(page_text(client.get("/en/clinics/")))

    assert 'alt="Main entrance"' in picture
    assert 'class="card-photo"' in picture
    assert 'loading="lazy"' in picture and 'decoding="async"' in picture


def test_the_condition_page_s_matching_clinic_cards_show_their_photo(client):
    condition = make_condition(treatments=1)
    clinic = make_clinic(treatments=[condition.condition_treatments.first().treatment])
    add_photo(clinic, en="Therapy gym")

    [picture] = pictures(page_text(client.get(f"/en/conditions/{condition.slug}/")))

    assert 'alt="Therapy gym"' in picture


@pytest.mark.parametrize("count", [1, 12])
def test_pages_with_photos_have_constant_queries(client, django_assert_num_queries, count):
    clinics = [make_clinic(slug=f"photo-{number:02d}") for number in range(count)]
    for clinic in clinics:
        add_photo(clinic, position=0)
        add_photo(clinic, position=1)
    # specialty and treatment choices, count, page, languages, photos, accreditations, specialties
    with django_assert_num_queries(8):
        html = page_text(client.get("/en/clinics/"))
    assert len(pictures(html)) == count
    # clinic, languages, photos, accreditations (current + all), specialties, services, treatments,
    # doctors (no conditions treated to look up: it offers no treatment); the conditions offered in
    # the request form (the clinic it offers is the page's own, not read again)
    with django_assert_num_queries(10):
        html = page_text(client.get(f"/en/clinics/{clinics[0].slug}/"))
    assert len(pictures(html)) == 1


# --- the admin, in Chromium ----------------------------------------------------------------------


def in_chromium(test):
    for mark in browser_marks():
        test = mark(test)
    return test


@in_chromium
def test_a_clinic_manager_uploads_a_photo_after_a_file_that_is_not_one(
    page, demo_site, console_errors, settings, public_media
):
    settings.ROOT_URLCONF = __name__
    clinic = Clinic.objects.published().order_by("pk").first()
    make_staff("clinics", CLINIC_MANAGER)
    change_path = f"/admin/clinics/clinic/{clinic.pk}/change/"
    page.set_viewport_size({"width": 1280, "height": 900})
    staff_sign_in(page, demo_site, "clinics", PASSWORD, next_path=change_path)

    page.click("text=Add another Clinic photo")
    page.fill("#id_photos-0-alt_text_en", "Main entrance on Yulgok-ro")
    page.click("a[href='#tab_id_photos-0-alt_text_ar']")
    page.fill("#id_photos-0-alt_text_ar", "المدخل الرئيسي")
    notes = {"name": "entrance.jpg", "mimeType": "image/jpeg", "buffer": b"Not a photo, only notes.\n" * 40}
    page.set_input_files("#id_photos-0-image", notes)
    page.click("input[name=_continue]")
    page.locator(".errornote").wait_for()
    page.get_by_text("This file is not a photo. Upload a JPEG, PNG or WebP image.").wait_for()
    assert clinic.photos.count() == 0
    assert stored_files(public_media) == []
    # What was typed is still there; the file is chosen again.
    assert page.input_value("#id_photos-0-alt_text_en") == "Main entrance on Yulgok-ro"

    photo = {"name": "IMG_0001.JPG", "mimeType": "image/jpeg", "buffer": photo_bytes((1800, 1200), gps=True)}
    page.set_input_files("#id_photos-0-image", photo)
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    saved = clinic.photos.get()
    assert (saved.alt_text_en, saved.alt_text_ar) == ("Main entrance on Yulgok-ro", "المدخل الرئيسي")
    assert sorted(saved.renditions["image/webp"], key=int) == ["480", "960", "1600"]
    # The saved photo is previewed on the clinic's page in the admin.
    preview = page.locator("img.clinic-photo-preview")
    preview.wait_for()
    assert preview.evaluate("img => img.complete && img.naturalWidth") == 480

    # On the public page, in Arabic: the WebP in the width the screen needs, with its Arabic text.
    page.goto(f"{demo_site.url}/ar/clinics/{clinic.slug}/")
    image = page.locator("picture.clinic-photo img")
    assert image.get_attribute("alt") == "المدخل الرئيسي"
    page.wait_for_function("document.querySelector('picture.clinic-photo img').complete")
    assert image.evaluate("img => img.naturalWidth") > 0
    assert image.evaluate("img => img.currentSrc").endswith(".webp")
    # A phone: the photo fits the screen.
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert image.evaluate("img => img.getBoundingClientRect().width") <= 360
    page.goto(f"{demo_site.url}/en/clinics/")
    card_photo = page.locator(f"[data-clinic='{clinic.slug}'] picture.card-photo img")
    assert card_photo.get_attribute("alt") == "Main entrance on Yulgok-ro"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert [error for error in console_errors if "status of 400" not in error] == []


def test_pages_with_photos_are_valid_html(client, tmp_path):
    from tests.support.quality import nu_errors, require_java

    require_java()
    clinic = make_clinic()
    add_photo(clinic, photo_bytes((1000, 750)), ar="المدخل الرئيسي")
    files = []
    for path in ("/ar/clinics/", f"/ar/clinics/{clinic.slug}/"):
        files.append(tmp_path / f"page-{len(files)}.html")
        files[-1].write_bytes(client.get(path).content)

    assert nu_errors(files) == []
