"""Doctor profiles: the doctor's page in every language (with its schema.org ``Physician`` and its
alternates), what is shown and what is not, the doctors on the clinic page, the reason "Dr … speaks
…" on a condition page, the sitemap, and editing a doctor in the admin (in Chromium too)."""

import io
import json
import re
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.urls import re_path
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.views.static import serve
from modeltranslation.utils import build_localized_fieldname
from PIL import Image

from clinic_portal import urls as site_urls
from clinics.models import (
    Clinic,
    ClinicLanguage,
    ClinicPhoto,
    Doctor,
    public_media_storage,
    validate_language_codes,
)
from staff.roles import CLINIC_MANAGER
from tests.factories import make_clinic, make_condition, make_doctor, make_specialty, make_treatment
from tests.support.admin_forms import as_post_data, form_pairs
from tests.support.browser import browser_marks, staff_sign_in
from tests.support.staff import make_staff, signed_in

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-staff-password"
LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]

NAMES = {
    "en": "Kim Ji-hoon",
    "ko": "김지훈",
    "ja": "キム・ジフン",
    "zh-hans": "金智勋",
    "ru": "Ким Чжи Хун",
    "ar": "كيم جي هون",
    "mn": "Ким Жи Хүн",
    "vi": "Bác sĩ Kim Ji-hoon",
}
TITLES = {
    "en": "Professor of Neurology",
    "ko": "신경과 교수",
    "ja": "神経内科教授",
    "zh-hans": "神经内科教授",
    "ru": "Профессор неврологии",
    "ar": "أستاذ طب الأعصاب",
    "mn": "Мэдрэлийн эмгэг судлалын профессор",
    "vi": "Giáo sư thần kinh học",
}
TRAINING = {
    "en": "Residency in neurology",
    "ko": "신경과 전공의 수련",
    "ja": "神経内科の専門研修",
    "zh-hans": "神经内科住院医师培训",
    "ru": "Ординатура по неврологии",
    "ar": "إقامة في طب الأعصاب",
    "mn": "Мэдрэлийн эмгэг судлалын резидентур",
    "vi": "Nội trú thần kinh học",
}
CERTIFICATION = {
    "en": "Korean board of neurology",
    "ko": "대한신경과학회 전문의",
    "ja": "韓国神経内科専門医",
    "zh-hans": "韩国神经内科专科医师",
    "ru": "Корейский сертификат невролога",
    "ar": "البورد الكوري في طب الأعصاب",
    "mn": "Солонгосын мэдрэлийн эмчийн үнэмлэх",
    "vi": "Chứng chỉ thần kinh học Hàn Quốc",
}
SPECIALTY = {"en": "Neurology", "ru": "Неврология", "ar": "طب الأعصاب", "ko": "신경과"}
CONDITION = {"en": "Spasticity", "ru": "Спастичность", "ar": "التشنج", "ko": "경직"}


def localized(field, texts):
    return {build_localized_fieldname(field, code): text for code, text in texts.items()}


def _public_media(request, path):
    return serve(request, path, document_root=settings.PUBLIC_MEDIA_ROOT)


# The site's pages and the public media, as the web server serves them in production.
urlpatterns = [re_path(r"^media/(?P<path>.+)$", _public_media), *site_urls.urlpatterns]


@pytest.fixture
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
    # The image fields took their storage when the models were loaded: they get the test's.
    monkeypatch.setattr(Doctor._meta.get_field("photo"), "storage", public_media_storage())
    monkeypatch.setattr(ClinicPhoto._meta.get_field("image"), "storage", public_media_storage())
    return root


def stored_files(root):
    return sorted(path for path in Path(root).rglob("*") if path.is_file()) if Path(root).exists() else []


def photo_bytes(size=(1200, 1500)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "steelblue").save(buffer, format="JPEG")
    return buffer.getvalue()


def publishable_clinic(**fields):
    """A published clinic that the admin saves again: it keeps to the publication rules."""
    clinic = make_clinic(
        specialties=[make_specialty()], foreign_patient_registration_number="SAMPLE-2026-0001", **fields
    )
    ClinicLanguage.objects.create(clinic=clinic, language="en", role="coordinator")
    return clinic


@pytest.fixture
def doctor():
    condition = make_condition(**localized("name", CONDITION))
    treatment = make_treatment(name_en="Botulinum toxin injection", name_ru="Инъекции ботулотоксина")
    clinic = publishable_clinic(
        slug="hanbit", name_en="Hanbit Hospital", name_ru="Больница Ханбит", kind="tertiary"
    )
    return make_doctor(
        clinic,
        slug="kim-ji-hoon",
        specialties=[make_specialty(schema_org_specialty="Neurologic", **localized("name", SPECIALTY))],
        focus_conditions=[condition],
        focus_treatments=[treatment],
        languages=["en", "ru", "ar"],
        practising_since=timezone.localdate().year - 12,
        **localized("name", NAMES),
        **localized("title", TITLES),
        **localized("training", TRAINING),
        **localized("board_certification", CERTIFICATION),
    )


def page_text(response):
    assert response.status_code == 200
    return unescape(response.content.decode())


def jsonld_of(html):
    [block] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, flags=re.S)
    return json.loads(block)


# --- the doctor's page ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_doctor_page_is_in_the_reader_s_language(client, doctor, language):
    html = page_text(client.get(f"/{language}/clinics/hanbit/doctors/kim-ji-hoon/"))

    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in html
    for texts in (NAMES, TITLES, TRAINING, CERTIFICATION):
        assert texts[language] in html
    assert SPECIALTY.get(language, SPECIALTY["en"]) in html
    assert CONDITION.get(language, CONDITION["en"]) in html
    with translation.override(language):
        # The languages spoken, named in the reader's language.
        for code in ("en", "ru", "ar"):
            assert str(translation.get_language_info(code)["name_translated"]) in html
        assert translation.gettext("Clinics") in html
    # The condition links to its page in the same language, the clinic to its page.
    assert f'href="/{language}/conditions/{doctor.focus_conditions.get().slug}/"' in html
    assert f'href="/{language}/clinics/hanbit/"' in html


def test_doctor_page_says_the_years_in_practice(client, doctor):
    html = page_text(client.get("/en/clinics/hanbit/doctors/kim-ji-hoon/"))

    assert f"12 years in practice (since {timezone.localdate().year - 12})" in html


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_doctor_page_links_to_itself_in_every_language(client, doctor, language):
    html = page_text(client.get(f"/{language}/clinics/hanbit/doctors/kim-ji-hoon/"))

    links = dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', html))
    assert links == {
        **{code: f"http://testserver/{code}/clinics/hanbit/doctors/kim-ji-hoon/" for code in LANGUAGE_CODES},
        "x-default": "http://testserver/clinics/hanbit/doctors/kim-ji-hoon/",
    }


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_doctor_page_describes_a_physician_in_json_ld(client, doctor, language):
    data = jsonld_of(page_text(client.get(f"/{language}/clinics/hanbit/doctors/kim-ji-hoon/")))

    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Physician"
    assert data["name"] == NAMES[language]
    assert data["description"] == TITLES[language]
    assert data["url"] == f"http://testserver/{language}/clinics/hanbit/doctors/kim-ji-hoon/"
    assert data["medicalSpecialty"] == ["Neurologic"]
    assert [known["alternateName"] for known in data["knowsLanguage"]] == ["en", "ru", "ar"]
    assert data["memberOf"]["@type"] == "Hospital"
    assert data["memberOf"]["url"] == f"http://testserver/{language}/clinics/hanbit/"
    assert data["hospitalAffiliation"]["url"] == data["memberOf"]["url"]
    assert "jobTitle" not in data  # a Person's property; schema.org's Physician is an organization
    assert "image" not in data  # no photo
    assert "disambiguatingDescription" not in data  # not sample data


def test_doctor_page_of_a_sample_clinic_says_it_is_sample_data(client, doctor):
    notice = "This doctor is fictional. The profile shows how the directory works and is not a real person."
    assert notice not in page_text(client.get("/en/clinics/hanbit/doctors/kim-ji-hoon/"))
    Clinic.objects.filter(pk=doctor.clinic_id).update(is_sample=True)

    html = page_text(client.get("/en/clinics/hanbit/doctors/kim-ji-hoon/"))

    assert notice in html
    assert "Sample data" in jsonld_of(html)["disambiguatingDescription"]


def test_doctor_page_without_a_profile_shows_only_what_is_known(client):
    doctor = make_doctor(make_clinic(slug="plain"), slug="lee", name_en="Lee Min-jun")

    html = page_text(client.get("/en/clinics/plain/doctors/lee/"))

    assert "Lee Min-jun" in html
    assert "Korean only" in html  # no language given
    for heading in ("years in practice", "Training", "Board certification", "Special interests"):
        assert heading not in html
    assert "description" not in jsonld_of(html)
    assert doctor.years_in_practice() is None


def test_unpublished_doctors_and_doctors_of_unpublished_clinics_are_not_found(client, doctor):
    hidden = make_doctor(doctor.clinic, slug="hidden", is_published=False)
    elsewhere = make_doctor(make_clinic(slug="draft-clinic", is_published=False), slug="kim-ji-hoon")

    assert client.get(f"/en/clinics/hanbit/doctors/{hidden.slug}/").status_code == 404
    assert client.get(f"/en/clinics/{elsewhere.clinic.slug}/doctors/kim-ji-hoon/").status_code == 404
    # A doctor is found at their own clinic only.
    make_clinic(slug="other")
    assert client.get("/en/clinics/other/doctors/kim-ji-hoon/").status_code == 404
    assert client.get("/en/clinics/hanbit/doctors/kim-ji-hoon/").status_code == 200


def test_doctor_page_shows_the_photo_in_every_width_with_its_arabic_text_alternative(client, public_media):
    doctor = make_doctor(publishable_clinic(slug="hanbit"), slug="kim")
    post_doctor_photo(doctor, alt={"en": "Dr Kim in the clinic room", "ar": "الدكتور كيم في غرفة العيادة"})
    doctor.refresh_from_db()

    html = page_text(client.get("/ar/clinics/hanbit/doctors/kim/"))

    [picture] = re.findall(r'<picture class="doctor-photo">.*?</picture>', html, flags=re.S)
    webp = doctor.photo_renditions["image/webp"]
    assert (
        f'srcset="/media/{webp["480"]} 480w, /media/{webp["960"]} 960w, /media/{webp["1200"]} 1200w"'
        in picture
    )
    assert 'alt="الدكتور كيم في غرفة العيادة"' in picture
    assert 'width="1200" height="1500"' in picture
    assert jsonld_of(html)["image"] == f"http://testserver/media/{doctor.photo.name}"


@pytest.mark.parametrize("count", [1, 12])
def test_doctor_page_has_constant_queries(client, django_assert_num_queries, doctor, count):
    for _number in range(count):
        doctor.specialties.add(make_specialty())
        doctor.focus_conditions.add(make_condition())
        doctor.focus_treatments.add(make_treatment())
    # the doctor with the clinic, specialties, focus conditions, focus treatments
    with django_assert_num_queries(4):
        html = page_text(client.get("/en/clinics/hanbit/doctors/kim-ji-hoon/"))
    [focus] = re.findall(r'<ul class="focus-conditions">(.*?)</ul>', html, flags=re.S)
    assert focus.count("<li>") == count + 1


# --- the clinic page, the condition page, the sitemap ---------------------------------------------


def test_clinic_page_lists_its_published_doctors_linked_to_their_pages(client, doctor, public_media):
    make_doctor(doctor.clinic, slug="hidden", name_en="Hidden Doctor", is_published=False)
    post_doctor_photo(doctor, alt={"en": "Dr Kim"})

    html = page_text(client.get("/ru/clinics/hanbit/"))

    [item] = re.findall(r'<li class="doctor-card">.*?</li>', html, flags=re.S)
    assert '<a href="/ru/clinics/hanbit/doctors/kim-ji-hoon/">' in item
    assert NAMES["ru"] in item and TITLES["ru"] in item and SPECIALTY["ru"] in item
    assert "Русский" in item  # the languages spoken
    assert 'class="doctor-thumbnail"' in item and 'alt="Dr Kim"' in item
    assert "Hidden Doctor" not in html


@pytest.mark.parametrize("count", [1, 12])
def test_clinic_page_with_doctors_has_constant_queries(client, django_assert_num_queries, count):
    clinic = make_clinic(slug="many")
    for _number in range(count):
        make_doctor(clinic, specialties=[make_specialty()], languages=["ru"])
    # clinic, languages, photos, accreditations (current + all), specialties, services, treatments,
    # doctors and their specialties (no conditions treated to look up: it offers no treatment); the
    # conditions offered in the request form
    with django_assert_num_queries(11):
        html = page_text(client.get("/en/clinics/many/"))
    assert html.count('<li class="doctor-card">') == count


def doctor_reasons(html, slug):
    card = re.search(rf'<li class="card clinic-card" data-clinic="{slug}">.*?</li>', html, flags=re.S).group(
        0
    )
    return re.findall(r'<div class="reason" data-reason="doctor-language">(.*?)</div>', card, flags=re.S)


def test_condition_page_says_which_doctor_speaks_the_reader_s_language(
    client, doctor, django_capture_on_commit_callbacks
):
    condition = make_condition(treatments=1)
    with django_capture_on_commit_callbacks(execute=True):  # the clinic's matches are rebuilt at commit
        doctor.clinic.clinic_treatments.create(treatment=condition.condition_treatments.get().treatment)
    make_doctor(doctor.clinic, slug="park", name_en="Park Seo-yeon", languages=["en", "ja"])
    make_doctor(doctor.clinic, slug="lee", name_ru="Ли Мин Чжун", languages=["ru"], is_published=False)

    html = page_text(client.get(f"/ru/conditions/{condition.slug}/"))

    [reason] = doctor_reasons(html, "hanbit")
    assert "Ким Чжи Хун" in reason and "Русский" in reason
    assert '<a href="/ru/clinics/hanbit/doctors/kim-ji-hoon/">Профессор неврологии</a>' in reason
    # In Japanese, the doctor speaking Japanese is named instead.
    [reason] = doctor_reasons(page_text(client.get(f"/ja/conditions/{condition.slug}/")), "hanbit")
    assert "Park Seo-yeon" in reason and translation.get_language_info("ja")["name_local"] in reason
    assert doctor_reasons(page_text(client.get(f"/vi/conditions/{condition.slug}/")), "hanbit") == []


@pytest.mark.parametrize("count", [1, 12])
def test_condition_page_with_doctors_has_constant_queries(client, django_assert_num_queries, count):
    condition = make_condition(treatments=1)
    treatment = condition.condition_treatments.get().treatment
    for number in range(count):
        clinic = make_clinic(slug=f"doctors-{number:02d}", treatments=[treatment])
        make_doctor(clinic, languages=["ru"])
        make_doctor(clinic, languages=["en"])
    # As pinned for the condition page (tests/test_clinics.py), the published doctors included.
    with django_assert_num_queries(14):
        html = page_text(client.get(f"/ru/conditions/{condition.slug}/"))
    assert html.count('data-reason="doctor-language"') == min(count, 10)


def test_sitemap_lists_published_doctors_of_published_clinics_in_every_language(client, doctor):
    make_doctor(doctor.clinic, slug="hidden", is_published=False)
    make_doctor(make_clinic(slug="draft", is_published=False), slug="away")

    xml = client.get("/sitemap.xml").content.decode()

    assert "/doctors/hidden/" not in xml and "/doctors/away/" not in xml
    for code in LANGUAGE_CODES:
        assert f"http://testserver/{code}/clinics/hanbit/doctors/kim-ji-hoon/</loc>" in xml


# --- the model and the admin ---------------------------------------------------------------------


def test_languages_must_be_the_site_s_with_a_translated_error():
    validate_language_codes(["en", "zh-hans", "ar"])
    with translation.override("ru"), pytest.raises(ValidationError) as refused:
        validate_language_codes(["en", "xx"])
    assert "xx" in refused.value.messages[0]
    assert refused.value.code == "unknown_language"


def test_years_in_practice_count_from_the_year_given():
    doctor = Doctor(practising_since=2010)

    assert doctor.years_in_practice(today=timezone.datetime(2026, 3, 1).date()) == 16


def test_practising_since_is_refused_in_the_future_or_before_1950():
    clinic = make_clinic()
    for year in (timezone.localdate().year + 1, 1949):
        with pytest.raises(ValidationError) as refused:
            Doctor(clinic=clinic, slug="kim", name_en="Kim", practising_since=year).full_clean()
        assert list(refused.value.message_dict) == ["practising_since"]
    Doctor(clinic=clinic, slug="kim", name_en="Kim", practising_since=timezone.localdate().year).full_clean()


@pytest.fixture
def manager_client(client):
    return signed_in(make_staff("clinics", CLINIC_MANAGER), client=client)


def post_doctor_photo(doctor, *, alt, client=None):
    """Upload a photo for ``doctor`` through the clinic's admin page, as a clinic manager."""
    client = client or signed_in(make_staff(f"manager-{doctor.pk}", CLINIC_MANAGER))
    url = f"/admin/clinics/clinic/{doctor.clinic_id}/change/"
    pairs = form_pairs(client.get(url).content.decode(), "clinic_form")
    index = doctor_index(pairs, doctor)
    fields = {f"doctors-{index}-photo_alt_text_{code.replace('-', '_')}": text for code, text in alt.items()}
    data = as_post_data(pairs, **fields)
    data[f"doctors-{index}-photo"] = io.BytesIO(photo_bytes())
    data[f"doctors-{index}-photo"].name = "portrait.jpg"
    response = client.post(url, data)
    assert response.status_code == 302, re.findall(
        r"errorlist[^>]*>(.*?)</ul>", response.content.decode(), flags=re.S
    )
    return response


def doctor_index(pairs, doctor):
    return next(
        name
        for name, value in pairs
        if name.startswith("doctors-") and name.endswith("-id") and value == str(doctor.pk)
    ).split("-")[1]


def test_a_clinic_manager_uploads_a_doctor_photo_stored_re_encoded(manager_client, doctor, public_media):
    post_doctor_photo(doctor, alt={"en": "Dr Kim"}, client=manager_client)

    doctor.refresh_from_db()
    assert doctor.photo_alt_text_en == "Dr Kim"
    assert sorted(doctor.photo_renditions) == ["image/jpeg", "image/webp"]
    assert sorted(doctor.photo_renditions["image/webp"], key=int) == ["480", "960", "1200"]
    assert (doctor.photo_width, doctor.photo_height) == (1200, 1500)
    assert len(stored_files(public_media)) == 6


def test_a_removed_doctor_photo_leaves_no_file(
    manager_client, doctor, public_media, django_capture_on_commit_callbacks
):
    post_doctor_photo(doctor, alt={"en": "Dr Kim"}, client=manager_client)
    url = f"/admin/clinics/clinic/{doctor.clinic_id}/change/"
    pairs = form_pairs(manager_client.get(url).content.decode(), "clinic_form")
    index = doctor_index(pairs, doctor)

    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(url, as_post_data(pairs, **{f"doctors-{index}-photo-clear": "on"}))

    assert response.status_code == 302
    doctor.refresh_from_db()
    assert (doctor.photo.name, doctor.photo_renditions, doctor.photo_width) == ("", {}, None)
    assert stored_files(public_media) == []
    assert "<picture" not in page_text(manager_client.get("/en/clinics/hanbit/doctors/kim-ji-hoon/"))


def test_a_doctor_photo_without_a_text_alternative_is_refused(manager_client, doctor, public_media):
    url = f"/admin/clinics/clinic/{doctor.clinic_id}/change/"
    pairs = form_pairs(manager_client.get(url).content.decode(), "clinic_form")
    index = doctor_index(pairs, doctor)
    data = as_post_data(pairs)
    data[f"doctors-{index}-photo"] = io.BytesIO(photo_bytes())
    data[f"doctors-{index}-photo"].name = "portrait.jpg"

    response = manager_client.post(url, data)

    assert response.status_code == 200
    assert (
        "Describe the photo for patients who cannot see it (in English at least)."
        in response.content.decode()
    )
    doctor.refresh_from_db()
    assert not doctor.photo
    assert stored_files(public_media) == []


def test_a_doctor_slug_is_unique_within_the_clinic(manager_client, doctor):
    other = make_doctor(doctor.clinic, slug="park")
    url = f"/admin/clinics/clinic/{doctor.clinic_id}/change/"
    pairs = form_pairs(manager_client.get(url).content.decode(), "clinic_form")

    response = manager_client.post(
        url, as_post_data(pairs, **{f"doctors-{doctor_index(pairs, other)}-slug": "kim-ji-hoon"})
    )

    assert response.status_code == 200
    assert "Please correct the duplicate data for slug" in response.content.decode() or (
        "already exists" in response.content.decode()
    )
    other.refresh_from_db()
    assert other.slug == "park"


# --- the admin, in Chromium ----------------------------------------------------------------------


def in_chromium(test):
    for mark in browser_marks():
        test = mark(test)
    return test


@in_chromium
def test_a_clinic_manager_adds_a_doctor_with_a_photo_after_forgetting_its_text_alternative(
    page, demo_site, console_errors, settings, public_media
):
    settings.ROOT_URLCONF = __name__
    clinic = Clinic.objects.get(slug="hanbit-neuroscience-hospital")
    index = clinic.doctors.count()
    make_staff("clinics", CLINIC_MANAGER)
    change_path = f"/admin/clinics/clinic/{clinic.pk}/change/"
    page.set_viewport_size({"width": 1280, "height": 900})
    staff_sign_in(page, demo_site, "clinics", PASSWORD, next_path=change_path)

    page.click("text=Add another Doctor")
    page.fill(f"#id_doctors-{index}-slug", "han-mi-rae")
    page.fill(f"#id_doctors-{index}-name_en", "Han Mi-rae")
    page.click(f"a[href='#tab_id_doctors-{index}-name_ru']")
    page.fill(f"#id_doctors-{index}-name_ru", "Хан Ми Рэ")
    page.check(f"input[name='doctors-{index}-languages'][value='ru']")
    page.fill(f"#id_doctors-{index}-practising_since", "2012")
    portrait = {"name": "portrait.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()}
    page.set_input_files(f"#id_doctors-{index}-photo", portrait)
    page.click("input[name=_continue]")
    page.locator(".errornote").wait_for()
    page.get_by_text("Describe the photo for patients who cannot see it (in English at least).").wait_for()
    assert not clinic.doctors.filter(slug="han-mi-rae").exists()
    assert stored_files(public_media) == []
    # What was typed is still there; the photo is chosen again, now described.
    assert page.input_value(f"#id_doctors-{index}-name_en") == "Han Mi-rae"

    page.fill(f"#id_doctors-{index}-photo_alt_text_en", "Dr Han in her clinic room")
    page.set_input_files(f"#id_doctors-{index}-photo", portrait)
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()

    saved = clinic.doctors.get(slug="han-mi-rae")
    assert (saved.name_ru, saved.languages, saved.practising_since) == ("Хан Ми Рэ", ["ru"], 2012)
    assert saved.photo_alt_text_en == "Dr Han in her clinic room"
    assert len(stored_files(public_media)) == 6
    page.goto(f"{demo_site.url}/ru/clinics/{clinic.slug}/doctors/han-mi-rae/")
    page.locator("h1", has_text="Хан Ми Рэ").wait_for()
    assert page.locator("picture.doctor-photo img").evaluate("image => image.naturalWidth") > 0
    assert console_errors == []


def test_demo_doctors_have_profiles_marked_as_sample_data(client, demo):
    doctor = Doctor.objects.published().get(slug="park-seo-yeon")
    assert doctor.clinic.is_sample
    assert doctor.focus_conditions.exists() and doctor.focus_treatments.exists()
    for field in ("training", "board_certification"):
        for code in LANGUAGE_CODES:
            assert getattr(doctor, build_localized_fieldname(field, code)), (field, code)

    html = page_text(client.get(f"/ar/clinics/{doctor.clinic.slug}/doctors/park-seo-yeon/"))

    assert doctor.training_ar in html and doctor.board_certification_ar in html
    notice = "This doctor is fictional. The profile shows how the directory works and is not a real person."
    with translation.override("ar"):
        assert gettext(notice) != notice and gettext(notice) in html
    assert "Sample data" in jsonld_of(html)["disambiguatingDescription"]


def test_a_cached_doctor_page_shows_an_edit_at_once(
    client, doctor, settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE = True
    caches["pages"].clear()
    url = "/en/clinics/hanbit/doctors/kim-ji-hoon/"
    page_text(client.get(url))
    with django_assert_num_queries(0):
        assert TITLES["en"] in page_text(client.get(url))

    with django_capture_on_commit_callbacks(execute=True):
        doctor.title_en = "Head of the spasticity clinic"
        doctor.save()

    assert "Head of the spasticity clinic" in page_text(client.get(url))
    caches["pages"].clear()
