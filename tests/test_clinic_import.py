"""Clinics imported and exported in bulk from the admin's clinic list (CSV and XLSX): the preview
that saves nothing, the import with its linked rows and history, an invalid row that stops the whole
import, the round trip of an exported file, and who may do what."""

import csv
import io
from pathlib import Path

import pytest
import tablib
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from clinics.imports import COLUMNS, ClinicResource
from clinics.models import Accreditation, Clinic, ClinicLanguage, ClinicService, ClinicTreatment
from conditions.models import Treatment
from staff.roles import CLINIC_MANAGER, CONTENT_EDITOR, COORDINATOR
from tests.support.browser import browser_marks, staff_sign_in
from tests.support.staff import make_staff, signed_in

pytestmark = pytest.mark.django_db

SAMPLE = Path(settings.BASE_DIR) / "clinics" / "import" / "sample-clinics.csv"
SAMPLE_SLUGS = [
    "mapo-riverside-rehabilitation-hospital",
    "daegu-suseong-neurology-clinic",
    "jeju-halla-spine-orthopaedic-hospital",
]
IMPORT_URL = "/admin/clinics/clinic/import/"
PROCESS_URL = "/admin/clinics/clinic/process_import/"
EXPORT_URL = "/admin/clinics/clinic/export/"
CSV_FORMAT, XLSX_FORMAT = "0", "1"


def sample_rows():
    return list(csv.DictReader(io.StringIO(SAMPLE.read_text(encoding="utf-8"))))


def as_csv(rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def dataset(rows):
    return tablib.Dataset().load(as_csv(rows), format="csv")


def with_change(row_index, **changes):
    rows = sample_rows()
    rows[row_index] = {**rows[row_index], **changes}
    return rows


def upload(client, content, name="sample-clinics.csv", file_format=CSV_FORMAT):
    if isinstance(content, str):
        content = content.encode()
    return client.post(
        IMPORT_URL,
        {"import_file": SimpleUploadedFile(name, content), "format": file_format, "resource": "0"},
    )


def confirm(client, preview):
    return client.post(PROCESS_URL, {**preview.context["confirm_form"].initial, "resource": "0"})


def row_errors(result):
    """{(line of the file, column): [messages]} of an import's invalid rows (the header is line 1)."""
    return {
        (row.number + 1, column): [str(message) for message in messages]
        for row in result.invalid_rows
        for column, messages in row.field_specific_errors.items()
    }


@pytest.fixture
def manager(demo):
    return signed_in(make_staff("clinics", CLINIC_MANAGER))


def test_the_preview_shows_what_would_be_created_and_saves_nothing(manager):
    from clinics.models import HistoricalClinic

    clinics_before, history_before = Clinic.objects.count(), HistoricalClinic.objects.count()

    preview = upload(manager, SAMPLE.read_bytes())

    assert preview.status_code == 200
    page = preview.content.decode()
    assert "Confirm import" in page
    assert [row.import_type for row in preview.context["result"].valid_rows()] == ["new", "new", "new"]
    assert "Mapo Riverside Rehabilitation Hospital" in page
    assert "robot-assisted-gait-training 150000-220000 KRW 14 days" in page
    # The marks of the changes carry no inline style (the admin's CSP refuses them).
    assert "<ins>" in page and "style=" not in page.split('id="content"', 1)[1]
    assert Clinic.objects.count() == clinics_before
    assert HistoricalClinic.objects.count() == history_before
    assert not ClinicLanguage.objects.filter(clinic__slug__in=SAMPLE_SLUGS).exists()


def test_confirming_imports_the_clinics_with_their_linked_rows_and_history(manager):
    response = confirm(manager, upload(manager, SAMPLE.read_bytes()))

    assert response.status_code == 302
    mapo = Clinic.objects.get(slug="mapo-riverside-rehabilitation-hospital")
    assert mapo.name_ko == "마포리버사이드재활병원"
    assert mapo.name_mn == "Мапо Риверсайд нөхөн сэргээх эмнэлэг"
    assert mapo.is_published and mapo.has_international_centre
    assert str(mapo.latitude) == "37.548100"
    assert mapo.registration_verified_on.isoformat() == "2026-08-14"
    assert sorted(mapo.specialties.values_list("slug", flat=True)) == ["neurology", "rehabilitation-medicine"]
    assert set(mapo.languages.values_list("language", "role")) == {
        ("en", "coordinator"),
        ("ru", "interpreter"),
        ("mn", "interpreter"),
    }
    assert set(mapo.services.values_list("service", flat=True)) == {
        "interpreter",
        "airport_pickup",
        "visa_letter",
        "accommodation",
    }
    koiha = mapo.accreditations.get(kind="koiha")
    assert (koiha.valid_from.isoformat(), koiha.valid_until.isoformat(), koiha.certificate_number) == (
        "2024-03-01",
        "2028-02-29",
        "KOIHA-SAMPLE-117",
    )
    robot = mapo.clinic_treatments.get(treatment__slug="robot-assisted-gait-training")
    assert (robot.price_min_krw, robot.price_max_krw, robot.typical_stay_days) == (150000, 220000, 14)
    gait = mapo.clinic_treatments.get(treatment__slug="gait-balance-training")
    assert (gait.price_min_krw, gait.price_max_krw, gait.typical_stay_days) == (80000, 80000, None)
    daegu = Clinic.objects.get(slug="daegu-suseong-neurology-clinic")
    nerve_blocks = daegu.clinic_treatments.get(treatment__slug="nerve-blocks")
    assert (nerve_blocks.price_min_krw, nerve_blocks.price_max_krw) == (200000, None)
    assert not daegu.is_published

    # The history says who imported what, from which file.
    reason = "Import of sample-clinics.csv"
    created = mapo.history.get(history_type="+")
    assert created.history_user.username == "clinics"
    assert created.history_change_reason == reason
    assert mapo.history.filter(history_type="~", history_change_reason=reason).exists()  # its specialties
    for model in (ClinicLanguage, ClinicService, Accreditation, ClinicTreatment):
        records = model.history.filter(clinic_id=mapo.pk)
        assert records.count() == model.objects.filter(clinic=mapo).count() > 0
        assert set(records.values_list("history_change_reason", flat=True)) == {reason}


def test_importing_again_changes_only_what_changed(manager):
    confirm(manager, upload(manager, SAMPLE.read_bytes()))
    mapo = Clinic.objects.get(slug="mapo-riverside-rehabilitation-hospital")
    kept_language = mapo.languages.get(language="en")

    rows = with_change(
        0, languages="ru:interpreter; en:coordinator; ar:interpreter", name_vi="Bệnh viện Mapo"
    )
    preview = upload(manager, as_csv(rows), name="update.csv")
    assert [row.import_type for row in preview.context["result"].rows] == ["update", "skip", "skip"]
    confirm(manager, preview)

    mapo.refresh_from_db()
    assert mapo.name_vi == "Bệnh viện Mapo"
    assert set(mapo.languages.values_list("language", flat=True)) == {"en", "ru", "ar"}
    assert mapo.languages.get(language="en").pk == kept_language.pk
    added = ClinicLanguage.history.get(clinic_id=mapo.pk, language="ar")
    assert added.history_change_reason == "Import of update.csv"
    removed = ClinicLanguage.history.get(clinic_id=mapo.pk, language="mn", history_type="-")
    assert removed.history_change_reason == "Import of update.csv"


def test_one_invalid_row_stops_the_whole_import_and_is_named_by_line_and_reason(manager):
    rows = [*sample_rows(), {**sample_rows()[1], "slug": "busan-typo-clinic", "specialties": "neurolgy"}]

    preview = upload(manager, as_csv(rows))

    page = preview.content.decode()
    assert "Confirm import" not in page
    assert "Line 5, column “specialties”: There is no specialty with the slug “neurolgy”." in page
    assert not Clinic.objects.filter(slug__in=[*SAMPLE_SLUGS, "busan-typo-clinic"]).exists()


def test_a_file_that_stops_passing_its_checks_before_the_confirmation_saves_nothing(manager):
    preview = upload(manager, SAMPLE.read_bytes())
    Treatment.objects.filter(slug="robot-assisted-gait-training").update(slug="robotic-gait-training")

    response = confirm(manager, preview)

    assert response.status_code == 302 and response["Location"] == IMPORT_URL
    assert "Nothing was imported" in manager.get(IMPORT_URL).content.decode()
    assert not Clinic.objects.filter(slug__in=SAMPLE_SLUGS).exists()


def test_a_bad_linked_row_in_the_third_row_leaves_the_first_two_unsaved(demo):
    rows = with_change(2, accreditations="koiha 2027-01-01..2024-01-01")

    result = ClinicResource().import_data(dataset(rows), dry_run=False, file_name="sample-clinics.csv")

    assert row_errors(result) == {
        (4, "accreditations"): ["“koiha 2027-01-01..2024-01-01” ends before it starts."]
    }
    assert not Clinic.objects.filter(slug__in=SAMPLE_SLUGS).exists()
    assert not Accreditation.objects.filter(certificate_number="KOIHA-SAMPLE-117").exists()


@pytest.mark.parametrize(
    ("changes", "column", "message"),
    [
        ({"languages": "en:coordinator; fr:interpreter"}, "languages", "Unknown language “fr”"),
        ({"languages": "en coordinator"}, "languages", "as language:role"),
        ({"languages": "en:nurse"}, "languages", "Unknown role “nurse”"),
        ({"services": "interpreter; massage"}, "services", "Unknown service “massage”"),
        ({"specialties": "neurology; neurology"}, "specialties", "“neurology” is listed twice."),
        ({"accreditations": "iso 2024-01-01..2025-01-01"}, "accreditations", "Unknown accreditation “iso”"),
        ({"accreditations": "jci 2024-13-01..2025-01-01"}, "accreditations", "“2024-13-01” is not a date"),
        ({"accreditations": "jci 2024-01-01"}, "accreditations", "as FROM..UNTIL"),
        (
            {"treatments": "nerve-blocks 900000-300000 KRW"},
            "treatments",
            "The price range of “nerve-blocks 900000-300000 KRW” starts above its end.",
        ),
        ({"treatments": "nerve-blocks cheap"}, "treatments", "optionally a price"),
        ({"treatments": "acupuncture 1000 KRW"}, "treatments", "no treatment with the slug “acupuncture”"),
        (
            {"registration_verified_on": "14/08/2026"},
            "registration_verified_on",
            "“14/08/2026” is not a date",
        ),
        ({"is_published": "maybe"}, "is_published", "Write true or false"),
        ({"latitude": "37,5"}, "latitude", "is not a number"),
        ({"bed_count": "many"}, "bed_count", "is not a whole number"),
        ({"kind": "spa"}, "kind", "is not a valid choice"),
        ({"name_en": ""}, "name_en", "This field cannot be blank."),
        (
            {"foreign_patient_registration_number": ""},
            "foreign_patient_registration_number",
            "A published clinic needs its foreign-patient attraction registration number.",
        ),
        ({"languages": ""}, "languages", "A published clinic needs at least one supported language."),
        ({"specialties": ""}, "specialties", "A published clinic needs at least one specialty."),
    ],
)
def test_each_mistake_is_reported_under_its_column(demo, changes, column, message):
    result = ClinicResource().import_data(dataset(with_change(0, **changes)), dry_run=True)

    errors = row_errors(result)
    assert list(errors) == [(2, column)], errors
    assert message in errors[(2, column)][0]


def test_an_unpublished_clinic_needs_no_specialty_or_language(demo):
    rows = with_change(
        0, is_published="false", specialties="", languages="", foreign_patient_registration_number=""
    )

    result = ClinicResource().import_data(dataset(rows), dry_run=True)

    assert not result.has_validation_errors()


def test_the_reasons_are_given_in_the_staff_members_language(demo):
    rows = with_change(0, specialties="", kind="spa")

    with translation.override("ko"):
        result = ClinicResource().import_data(dataset(rows), dry_run=True)
        expected = str(
            Clinic(is_published=True).publication_problems(specialties=[], languages=[1])["specialties"]
        )

    errors = row_errors(result)
    assert errors[(2, "specialties")] == [expected]
    assert expected == "게시하는 의료기관에는 진료과가 하나 이상 필요합니다."
    assert "spa" in errors[(2, "kind")][0] and "not a valid choice" not in errors[(2, "kind")][0]


def test_the_korean_page_lists_the_errors(demo):
    manager = signed_in(make_staff("clinics", CLINIC_MANAGER))
    manager.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"

    page = upload(manager, as_csv(with_change(0, specialties=""))).content.decode()

    assert "게시하는 의료기관에는 진료과가 하나 이상 필요합니다." in page


@pytest.mark.parametrize(("file_format", "extension"), [(CSV_FORMAT, "csv"), (XLSX_FORMAT, "xlsx")])
def test_an_exported_file_imports_again_without_changes(manager, file_format, extension):
    confirm(manager, upload(manager, SAMPLE.read_bytes()))
    exported = manager.post(EXPORT_URL, {"format": file_format, "resource": "0"})
    assert exported.status_code == 200
    assert exported["Content-Disposition"].endswith(f'.{extension}"')

    preview = upload(manager, exported.content, name=f"clinics.{extension}", file_format=file_format)

    result = preview.context["result"]
    assert not result.has_errors() and not result.has_validation_errors(), row_errors(result)
    assert {row.import_type for row in result.rows} == {"skip"}
    assert len(result.rows) == Clinic.objects.count()


def test_an_xlsx_file_imports(manager):
    book = tablib.Dataset().load(as_csv(sample_rows()), format="csv")
    confirm(manager, upload(manager, book.export("xlsx"), name="clinics.xlsx", file_format=XLSX_FORMAT))

    jeju = Clinic.objects.get(slug="jeju-halla-spine-orthopaedic-hospital")
    assert jeju.name_zh_hans == "济州汉拿脊柱骨科医院"
    assert set(jeju.languages.values_list("language", "role")) >= {("zh-hans", "doctor")}


def test_the_export_reads_the_linked_rows_in_a_constant_number_of_queries(
    demo, django_assert_max_num_queries
):
    def queries_to_export():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            ClinicResource().export()
        return len(captured)

    before = queries_to_export()
    ClinicResource().import_data(dataset(sample_rows()), dry_run=False)
    assert Clinic.objects.count() > 13
    with django_assert_max_num_queries(before):
        ClinicResource().export()


@pytest.mark.parametrize(
    ("role", "may_import", "may_export"),
    [(CLINIC_MANAGER, True, True), (COORDINATOR, False, True), (CONTENT_EDITOR, False, False)],
)
def test_who_may_import_and_export(demo, role, may_import, may_export):
    client = signed_in(make_staff("someone", role))

    assert client.get(IMPORT_URL).status_code == (200 if may_import else 404)
    assert client.get(EXPORT_URL).status_code == (200 if may_export else 404)
    assert upload(client, SAMPLE.read_bytes()).status_code == (200 if may_import else 404)
    if may_export:
        changelist = client.get("/admin/clinics/clinic/").content.decode()
        assert (IMPORT_URL in changelist) is may_import
        assert EXPORT_URL in changelist


def test_a_user_who_may_not_import_cannot_confirm_one(demo):
    manager = signed_in(make_staff("clinics", CLINIC_MANAGER))
    preview = upload(manager, SAMPLE.read_bytes())
    coordinator = signed_in(make_staff("coordinator", COORDINATOR))

    assert confirm(coordinator, preview).status_code == 404
    assert not Clinic.objects.filter(slug__in=SAMPLE_SLUGS).exists()


def browser_test(function):
    for mark in browser_marks():
        function = mark(function)
    return function


@browser_test
def test_a_clinic_manager_imports_a_file_in_the_browser_after_correcting_it(page, demo_site, console_errors):
    make_staff("clinics", CLINIC_MANAGER)
    staff_sign_in(page, demo_site, "clinics", "a-long-staff-password", next_path="/admin/clinics/clinic/")
    page.click("a.import_link")
    page.wait_for_url(f"**{IMPORT_URL}")

    # A file with a typo: the line and the reason are shown, and the preview is not offered.
    bad_rows = with_change(1, specialties="neurolgy")
    page.set_input_files(
        "#id_import_file",
        files=[{"name": "clinics.csv", "mimeType": "text/csv", "buffer": as_csv(bad_rows).encode()}],
    )
    assert page.locator("#id_format option:checked").inner_text() == "csv"  # guessed from the name
    page.click("input[type=submit]")
    errors = page.locator(".import-row-errors li")
    errors.first.wait_for()
    assert errors.all_inner_texts() == [
        "Line 3, column “specialties”: There is no specialty with the slug “neurolgy”."
    ]
    assert page.locator("input[name=confirm]").count() == 0
    assert not Clinic.objects.filter(slug__in=SAMPLE_SLUGS).exists()

    # The corrected file: the preview lists the new clinics, and confirming saves them.
    page.set_input_files("#id_import_file", str(SAMPLE))
    page.click("input[type=submit]")
    page.locator("table.import-preview").wait_for()
    assert page.locator("table.import-preview tr.new").count() == 3
    assert not Clinic.objects.filter(slug__in=SAMPLE_SLUGS).exists()
    page.click("input[name=confirm]")
    page.wait_for_url("**/admin/clinics/clinic/")
    assert "3 new" in page.locator(".messagelist .success").inner_text()
    assert set(Clinic.objects.filter(slug__in=SAMPLE_SLUGS).values_list("slug", flat=True)) == set(
        SAMPLE_SLUGS
    )
    assert Clinic.objects.get(slug="jeju-halla-spine-orthopaedic-hospital").accreditations.count() == 2

    # The clinics of the filtered list exported as XLSX.
    page.goto(f"{demo_site.url}/admin/clinics/clinic/?city__exact=jeju")
    page.click("a.export_link")
    page.select_option("#id_format", label="xlsx")
    with page.expect_download() as download:
        page.click("input[type=submit]")
    exported = tablib.Dataset().load(Path(download.value.path()).read_bytes(), format="xlsx")
    assert "jeju-halla-spine-orthopaedic-hospital" in exported["slug"]
    assert set(exported["city"]) == {"jeju"}
    assert console_errors == []


def test_the_sample_file_shows_every_column():
    header = next(csv.reader(io.StringIO(SAMPLE.read_text(encoding="utf-8"))))

    assert header == COLUMNS
    assert {"name_ko", "name_zh_hans", "description_vi", "treatments"} <= set(header)
