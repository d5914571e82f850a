"""The translations' status in the admin: per object and language, the texts missing or older than
the English text they translate, for the kinds of objects a user may see."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from clinics.models import Clinic
from conditions.models import Condition, ConditionItem, ConditionSection
from staff.roles import ADMIN, CLINIC_MANAGER, CONTENT_EDITOR, COORDINATOR, MEDICAL_REVIEWER
from tests.support.browser import browser_marks, staff_sign_in
from tests.support.staff import make_staff, signed_in

pytestmark = pytest.mark.django_db

URL = "/admin/translations/"
PASSWORD = "a-long-staff-password"
LONG_AGO = timezone.now() - datetime.timedelta(days=30)


@pytest.fixture
def editor(demo):
    # The demo content as written before the changes the tests date.
    Condition.history.all().update(history_date=LONG_AGO - datetime.timedelta(days=30))
    return signed_in(make_staff("editor", CONTENT_EDITOR))


def row_of(response, obj):
    [row] = [row for row in response.context["rows"] if row.obj.pk == obj.pk]
    return row


def findings_of(client, obj, language, kind="conditions"):
    """{(entry, field): finding} of the object in this language, as the page lists them."""
    response = client.get(URL, {"kind": kind, "language": language})
    assert response.status_code == 200
    [status] = row_of(response, obj).languages
    assert status.code == language
    return {(finding.text.entry, str(finding.text.label)): finding for finding in status.findings}


def save_at(obj, when, **values):
    """Save these values as a change made at ``when`` (as the history records it)."""
    for name, value in values.items():
        setattr(obj, name, value)
    obj._history_date = when
    obj.save()
    del obj._history_date


def test_a_text_emptied_in_korean_is_missing_in_korean_only(editor):
    clonus = Condition.objects.get(slug="clonus")
    assert findings_of(editor, clonus, "ko") == {}
    clonus.summary_ko = ""
    clonus.save()
    symptom = clonus.items.filter(section=ConditionSection.SYMPTOM).first()
    symptom.text_ko = ""
    symptom.save()

    korean = findings_of(editor, clonus, "ko")
    assert set(korean) == {("", "short summary"), (f"Symptom: {symptom}", "text")}
    assert all(finding.is_missing for finding in korean.values())
    # The entry's link leads to its section's page, the condition's own text to its change page.
    assert korean[(f"Symptom: {symptom}", "text")].text.url == reverse(
        "admin:conditions_condition_items", args=[clonus.pk, "symptom"]
    )
    assert korean[("", "short summary")].text.url == reverse(
        "admin:conditions_condition_change", args=[clonus.pk]
    )
    assert findings_of(editor, clonus, "ja") == {}

    page = editor.get(URL, {"kind": "conditions"})
    row = row_of(page, clonus)
    assert [(status.code, status.missing_count) for status in row.languages if not status.is_complete] == [
        ("ko", 2)
    ]
    assert b"2 missing" in page.content
    assert b"complete" in page.content


def test_an_english_change_after_the_russian_one_makes_russian_outdated_until_translated_again(editor):
    clonus = Condition.objects.get(slug="clonus")
    save_at(clonus, LONG_AGO, summary_ru="Клонус: ритмичные сокращения мышц.")
    assert findings_of(editor, clonus, "ru") == {}

    english_change = LONG_AGO + datetime.timedelta(days=10)
    save_at(clonus, english_change, summary_en="Clonus is a series of rhythmic muscle contractions.")
    [(key, finding)] = findings_of(editor, clonus, "ru").items()
    assert key == ("", "short summary")
    assert finding.state == "outdated"
    assert (finding.english_changed, finding.translation_changed) == (english_change, LONG_AGO)
    response = editor.get(URL, {"kind": "conditions", "language": "ru"})
    assert b"outdated: English changed on" in response.content

    # Translated again: up to date in Russian; Japanese, untouched since, is still behind.
    save_at(
        clonus, english_change + datetime.timedelta(days=1), summary_ru="Клонус — ритмичные сокращения мышц."
    )
    assert findings_of(editor, clonus, "ru") == {}
    assert set(findings_of(editor, clonus, "ja")) == {("", "short summary")}


def test_changes_count_in_the_order_of_their_dates_not_of_their_records(editor):
    """A change recorded after another but dated before it (a late record) counts at its date."""
    clonus = Condition.objects.get(slug="clonus")
    translated, english_changed = LONG_AGO, LONG_AGO + datetime.timedelta(days=1)
    english = "Clonus, briefly."
    save_at(clonus, english_changed, summary_ru="Клонус.", summary_en=english)
    old_english = clonus.history.earliest("history_date").summary_en
    save_at(clonus, translated, summary_en=old_english)  # recorded second, dated first
    Condition.objects.filter(pk=clonus.pk).update(summary_en=english)

    finding = findings_of(editor, clonus, "ru")[("", "short summary")]
    assert (finding.state, finding.english_changed, finding.translation_changed) == (
        "outdated",
        english_changed,
        translated,
    )


def test_an_entry_without_history_counts_only_when_missing(editor):
    """A row from before the history was kept has no record: an English change to it is not dated."""
    clonus = Condition.objects.get(slug="clonus")
    entry = clonus.items.order_by("pk").first()
    entry.history.all().delete()
    ConditionItem.objects.filter(pk=entry.pk).update(text_en="Changed without a record.")
    assert findings_of(editor, clonus, "vi") == {}
    assert row_of(editor.get(URL, {"kind": "conditions"}), clonus).undated

    # Once saved it has a history, and a later English change dates the other languages.
    save_at(entry, LONG_AGO)
    save_at(entry, LONG_AGO + datetime.timedelta(days=1), text_en="Changed with a record.")
    finding = findings_of(editor, clonus, "vi")[(f"{entry.get_section_display()}: {entry}", "text")]
    assert finding.state == "outdated"


def test_a_clinics_doctors_count_within_their_clinic(demo):
    admin = signed_in(make_staff("admin", ADMIN))
    clinic = Clinic.objects.get(slug="hanbit-neuroscience-hospital")
    doctor = clinic.doctors.first()
    doctor.title_mn = ""
    doctor.save()
    found = findings_of(admin, clinic, "mn", kind="clinics")
    assert found[(str(doctor), "title")].text.url == reverse("admin:clinics_clinic_change", args=[clinic.pk])


def add_condition(number):
    condition = Condition.objects.create(
        slug=f"condition-{number}",
        name_en=f"Condition {number}",
        summary_en="A summary.",
        overview_en="An overview.",
        summary_ko="요약.",
    )
    condition.summary_en = "A changed summary."
    condition.save()
    for position in range(3):
        ConditionItem.objects.create(
            condition=condition, section=ConditionSection.SYMPTOM, text_en="A symptom.", position=position
        )
    return condition


def test_a_page_takes_the_same_number_of_queries_however_many_objects(editor, django_assert_num_queries):
    editor.get(URL)  # the session and permissions, as on any page
    with django_assert_num_queries(11):
        first = editor.get(URL, {"kind": "conditions"})
    for number in range(5):
        add_condition(number)
    with django_assert_num_queries(11):
        more = editor.get(URL, {"kind": "conditions"})
    assert len(more.context["rows"]) == len(first.context["rows"]) + 5
    added = Condition.objects.get(slug="condition-0")
    [korean] = [status for status in row_of(more, added).languages if status.code == "ko"]
    # Its name, overview and three symptoms are missing in Korean; its summary is older than the English.
    assert (korean.missing_count, korean.outdated_count) == (5, 1)


def test_pages_keep_the_filters(demo):
    admin = signed_in(make_staff("admin", ADMIN))
    for number in range(30):
        Clinic.objects.create(
            slug=f"clinic-{number}", name_en=f"Zz clinic {number:02}", kind="hospital", city="seoul"
        )
    response = admin.get(URL, {"kind": "clinics", "language": "ar", "page": 2})
    names = [row.obj.name for row in response.context["rows"]]
    assert names == [f"Zz clinic {number:02}" for number in range(12, 30)]  # after 13 demo clinics and 12
    assert [status.code for status in response.context["rows"][0].languages] == ["ar"]
    assert b'href="?kind=clinics&amp;language=ar&amp;page=1"' in response.content


@pytest.mark.parametrize(
    ("role", "kinds"),
    [
        (CONTENT_EDITOR, ["conditions", "treatments", "specialties"]),
        (MEDICAL_REVIEWER, ["conditions", "treatments", "specialties"]),
        (CLINIC_MANAGER, ["clinics"]),
        (ADMIN, ["conditions", "treatments", "specialties", "clinics"]),
    ],
)
def test_each_role_sees_only_its_kinds_of_objects(demo, role, kinds):
    client = signed_in(make_staff("someone", role))
    response = client.get(URL)
    assert [slug for slug, _label in response.context["form"].fields["kind"].choices] == kinds
    for slug in ["conditions", "treatments", "specialties", "clinics"]:
        response = client.get(URL, {"kind": slug})
        assert response.status_code == (200 if slug in kinds else 404)
    assert 'href="/admin/translations/"' in client.get("/admin/").content.decode()


def test_a_kind_out_of_reach_is_not_found_and_a_wrong_language_is_explained(demo):
    manager = signed_in(make_staff("clinics", CLINIC_MANAGER))
    assert manager.get(URL, {"kind": "conditions"}).status_code == 404
    assert manager.get(URL, {"kind": "no-such-kind"}).status_code == 404
    response = manager.get(URL, {"kind": "clinics", "language": "en"})
    assert "Select a valid choice" in response.content.decode()
    assert "rows" not in response.context


def test_a_user_who_may_see_no_translations_gets_not_found(demo):
    coordinator = signed_in(make_staff("coordinator", COORDINATOR))
    assert coordinator.get(URL).status_code == 404
    assert 'href="/admin/translations/"' not in coordinator.get("/admin/").content.decode()


def browser_test(test):
    for mark in browser_marks():
        test = mark(test)
    return test


@browser_test
def test_an_editor_filters_by_language_and_opens_what_to_translate(page, demo_site, console_errors):
    clonus = Condition.objects.get(slug="clonus")
    clonus.summary_ru = ""
    clonus.save()
    make_staff("editor", CONTENT_EDITOR)
    staff_sign_in(page, demo_site, "editor", PASSWORD)

    page.click("text=What is missing or outdated in each language")
    page.wait_for_url(f"**{URL}")
    # A language that is not translated (from an old bookmark): explained, and the form still works.
    page.goto(f"{demo_site.url}{URL}?kind=conditions&language=xx")
    page.locator(".errorlist", has_text="Select a valid choice").wait_for()
    assert page.locator("table.translation-status").count() == 0
    page.select_option("#id_language", "ru")
    page.click("input[type=submit][value=Show]")
    page.wait_for_url("**language=ru**")
    # One column of languages: Russian.
    assert page.locator("table.translation-status thead abbr").evaluate_all(
        "abbrs => abbrs.map(a => a.title)"
    ) == ["Russian"]
    clonus_row = page.locator("tr", has=page.locator("th a", has_text="Clonus"))
    assert "1 missing" in clonus_row.inner_text()
    clonus_row.locator("details a", has_text="Short summary").click()
    page.wait_for_url(f"**/admin/conditions/condition/{clonus.pk}/change/")
    assert page.input_value("#id_summary_ru") == ""
    assert console_errors == []
