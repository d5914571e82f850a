"""The "Changes" page of content in the admin: who changed what, when, old → new, for an object and
its linked rows, and the button that restores one field's earlier value."""

import os
import re
from html import unescape

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinics.models import Accreditation, ClinicTreatment
from conditions.models import Reference, Treatment
from staff.roles import CLINIC_MANAGER, CONTENT_EDITOR, COORDINATOR, MEDICAL_REVIEWER
from tests.factories import make_clinic, make_condition, make_doctor, make_specialty, make_treatment
from tests.support.admin_forms import as_post_data, form_pairs
from tests.support.browser import CHROMIUM, staff_sign_in
from tests.support.staff import make_staff, signed_in

pytestmark = pytest.mark.django_db


def changes_url(obj):
    return f"/admin/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}/changes/"


def restore_url(obj):
    return changes_url(obj) + "restore/"


def change_url(obj):
    return f"/admin/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}/change/"


def save_through_admin(client, obj, form_id, **changes):
    """Posts the object's change form as a browser would, with these fields changed."""
    pairs = form_pairs(client.get(change_url(obj)).content.decode(), form_id)
    response = client.post(change_url(obj), as_post_data(pairs, _continue="1", **changes))
    assert response.status_code == 302, response.content.decode()[:3000]
    return response


def restore_buttons(html):
    """The hidden fields of each "Restore the earlier value" form: [{source, record, field, page}]."""
    forms = re.findall(r'<form method="post" action="[^"]*/changes/restore/">(.*?)</form>', html, re.S)
    return [dict(re.findall(r'name="(source|record|field|page)" value="([^"]*)"', form)) for form in forms]


def restore(client, obj, field, **extra):
    """Clicks the button beside ``field`` on the object's Changes page."""
    [button] = [
        b for b in restore_buttons(client.get(changes_url(obj)).content.decode()) if b["field"] == field
    ]
    return client.post(restore_url(obj), {**button, **extra})


@pytest.fixture
def editor():
    return make_staff("editor", CONTENT_EDITOR, first_name="Mina", last_name="Park")


@pytest.fixture
def editor_client(editor):
    return signed_in(editor)


def entries(html):
    """The text of each entry of a Changes page, newest first, spaces collapsed."""
    found = re.findall(r'<li class="content-change">(.*?)</li>', html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", unescape(entry)).split()) for entry in found]


def test_an_edit_in_the_admin_is_listed_with_its_author_and_old_to_new(editor_client):
    treatment = make_treatment(name_en="Botulinum toxin", name_ko="보톡스")

    save_through_admin(editor_client, treatment, "treatment_form", name_ko="보툴리눔 독소")

    record = treatment.history.first()
    assert (record.history_type, record.history_user.username) == ("~", "editor")
    change_page = editor_client.get(change_url(treatment)).content.decode()
    assert f'href="{changes_url(treatment)}"' in change_page
    response = editor_client.get(changes_url(treatment))
    assert response.status_code == 200
    newest, created = entries(response.content.decode())
    assert "Mina Park · Changed Treatment: Botulinum toxin" in newest
    assert "name [ko] 보톡스 → 보툴리눔 독소 Restore the earlier value" in newest
    # Only the field that changed: untranslated columns saved as "" instead of NULL are no change.
    assert newest.count("Restore the earlier value") == 1
    assert "system or import · Created Treatment: Botulinum toxin" in created


def test_a_change_to_a_list_entry_shows_on_its_conditions_page(editor_client):
    condition = make_condition(symptoms=1)
    item = condition.items.get()
    section_url = f"/admin/conditions/condition/{condition.pk}/items/symptom/"
    pairs = form_pairs(editor_client.get(section_url).content.decode(), "condition_form")
    response = editor_client.post(
        section_url,
        as_post_data(pairs, **{"items-0-title_en": "Ankle jerks", "items-0-text_ko": "발목 떨림"}),
    )
    assert response.status_code == 302

    assert f'href="{changes_url(condition)}"' in editor_client.get(change_url(condition)).content.decode()
    html = editor_client.get(changes_url(condition)).content.decode()

    # (The published condition also went back to medical review: another entry.)
    [newest] = [entry for entry in entries(html) if "Symptom" in entry and "Changed" in entry]
    assert "Mina Park · Changed Symptom: Ankle jerks" in newest
    assert "title [en] (empty) → Ankle jerks" in newest
    assert "text [ko] (empty) → 발목 떨림" in newest
    item.refresh_from_db()
    assert item.title_en == "Ankle jerks"
    # The status moves only through the workflow: its change is listed, without a button.
    [status_change] = [entry for entry in entries(html) if "status Published → In medical review" in entry]
    assert "Restore the earlier value" not in status_change


def test_restoring_an_entry_of_a_published_condition_sends_it_back_to_review(editor_client):
    condition = make_condition(symptoms=1)
    item = condition.items.get()
    item.text_ko = "잘못된 번역"
    item.save()

    response = restore(editor_client, condition, "text_ko")

    item.refresh_from_db()
    assert item.text_ko is None
    condition.refresh_from_db()
    assert (condition.status, condition.is_on_site) == ("in_review", True)
    html = unescape(editor_client.get(response["Location"]).content.decode())
    assert "The earlier value of “text [ko]” (Symptom 0) was restored." in html
    assert "your changes go to medical review" in html


def test_a_change_to_an_accreditation_shows_on_its_clinics_page():
    manager = make_staff("clinics", CLINIC_MANAGER)
    client = signed_in(manager)
    clinic = make_clinic(is_published=False)
    Accreditation.objects.create(clinic=clinic, kind="jci", certificate_number="JCI-1")

    save_through_admin(client, clinic, "clinic_form", **{"accreditations-0-certificate_number": "JCI-2"})

    assert f'href="{changes_url(clinic)}"' in client.get(change_url(clinic)).content.decode()
    newest = entries(client.get(changes_url(clinic)).content.decode())[0]
    assert "clinics · Changed Accreditation: JCI accreditation" in newest
    assert "certificate number JCI-1 → JCI-2" in newest


def test_a_change_of_specialties_shows_the_names_before_and_after(editor_client):
    condition = make_condition()
    neurology, rehabilitation = make_specialty(name_en="Neurology"), make_specialty(name_en="Rehabilitation")
    condition.specialties.add(neurology)
    condition.specialties.add(rehabilitation)

    html = editor_client.get(changes_url(condition)).content.decode()

    assert "relevant specialties Neurology → Neurology, Rehabilitation" in entries(html)[0]


def test_a_long_text_is_shown_around_its_change_and_whole_on_demand(editor_client):
    long_text = "A sentence about clonus. " * 20
    condition = make_condition(overview_en=long_text + "The end.")
    condition.overview_en = long_text + "The new end."
    condition.save()

    html = editor_client.get(changes_url(condition)).content.decode()

    [old] = re.findall(r'class="content-change-old">(.*?)</td>', html, re.S)
    [new] = re.findall(r'class="content-change-new">(.*?)</td>', html, re.S)
    assert old.startswith("…") and old.endswith("clonus. The end.")
    assert new.startswith("…") and new.endswith("clonus. The new end.")
    assert len(old) < 200
    # The whole texts are a click away.
    assert f"{long_text}The end." in html and f"{long_text}The new end." in html


def test_restoring_a_translated_name_brings_it_back_and_is_recorded(editor, editor_client):
    treatment = make_treatment(name_en="Botulinum toxin", name_ko="보톡스")
    save_through_admin(editor_client, treatment, "treatment_form", name_ko="보툴리눔 독소")

    response = restore(editor_client, treatment, "name_ko")

    assert response.status_code == 302
    assert response["Location"] == changes_url(treatment) + "?page=1"
    treatment.refresh_from_db()
    assert treatment.name_ko == "보톡스"
    assert treatment.history.first().history_user == editor
    assert treatment.history.count() == 3
    assert (
        "Changed name [ko]"
        in LogEntry.objects.filter(object_id=str(treatment.pk)).first().get_change_message()
    )
    html = unescape(editor_client.get(response["Location"]).content.decode())
    assert "The earlier value of “name [ko]” (Botulinum toxin) was restored." in html
    newest, earlier, _created = entries(html)
    assert "Mina Park · Changed Treatment: Botulinum toxin" in newest
    assert "name [ko] 보툴리눔 독소 → 보톡스" in newest
    # The value restored is the current one again: nothing to restore there.
    assert "name [ko] 보톡스 → 보툴리눔 독소 This is the current value." in earlier


def test_a_restore_that_breaks_a_rule_changes_nothing_and_says_why(editor_client):
    treatment = make_treatment(slug="botox", name_en="Botulinum toxin")
    treatment.slug = "botulinum-toxin"
    treatment.save()
    make_treatment(slug="botox", name_en="Botox brand")

    response = restore(editor_client, treatment, "slug")

    treatment.refresh_from_db()
    assert treatment.slug == "botulinum-toxin"
    assert treatment.history.count() == 2
    html = unescape(editor_client.get(response["Location"]).content.decode())
    assert "The earlier value of “slug” was not restored: Treatment with this Slug already exists." in html


def test_a_row_that_no_longer_exists_cannot_be_restored(editor_client):
    condition = make_condition()
    reference = Reference.objects.create(condition=condition, citation="Old citation")
    reference.citation = "New citation"
    reference.save()
    button = {"source": "conditions.reference", "record": str(reference.history.first().history_id)}
    reference.delete()

    html = editor_client.get(changes_url(condition)).content.decode()

    deleted, changed, _created = [e for e in entries(html) if "Reference" in e][:3]
    assert "Deleted Reference: New citation" in deleted
    assert "citation Old citation → New citation" in changed
    assert "This row no longer exists" in changed
    assert "Restore the earlier value" not in changed
    response = editor_client.post(restore_url(condition), {**button, "field": "citation"})
    assert "no longer exists" in unescape(editor_client.get(response["Location"]).content.decode())
    assert not Reference.objects.exists()


def test_who_may_see_the_changes_and_who_may_restore(editor_client):
    treatment = make_treatment(name_en="Botulinum toxin", name_ko="보톡스")
    save_through_admin(editor_client, treatment, "treatment_form", name_ko="보툴리눔 독소")
    condition = make_condition()
    [button] = restore_buttons(editor_client.get(changes_url(treatment)).content.decode())
    coordinator = signed_in(make_staff("coordinator", COORDINATOR))
    reviewer = signed_in(make_staff("reviewer", MEDICAL_REVIEWER))
    manager = signed_in(make_staff("clinics", CLINIC_MANAGER))

    # Who may only view the treatment sees its changes, without the buttons; others find nothing.
    for viewer in (reviewer, manager):
        response = viewer.get(changes_url(treatment))
        assert response.status_code == 200
        assert "보톡스" in response.content.decode()
        assert restore_buttons(response.content.decode()) == []
    assert coordinator.get(changes_url(treatment)).status_code == 404
    assert coordinator.get(changes_url(condition)).status_code == 200
    for outsider in (coordinator, reviewer, manager):
        assert outsider.post(restore_url(treatment), button).status_code == 404
    treatment.refresh_from_db()
    assert treatment.name_ko == "보툴리눔 독소"
    assert editor_client.get("/admin/conditions/treatment/999999/changes/").status_code == 404


def test_a_button_for_a_row_of_another_object_restores_nothing(editor_client):
    first, second = make_treatment(name_ko="하나"), make_treatment(name_ko="둘")
    second.name_ko = "셋"
    second.save()
    [button] = restore_buttons(editor_client.get(changes_url(second)).content.decode())

    assert editor_client.post(restore_url(first), button).status_code == 404
    assert (
        editor_client.post(restore_url(second), {**button, "field": "is_clinical_service"}).status_code == 404
    )
    assert editor_client.post(restore_url(second), {**button, "source": "auth.user"}).status_code == 400
    second.refresh_from_db()
    assert second.name_ko == "셋"


def change_everything(condition, round_number):
    """One change to the condition and to each kind of its linked rows."""
    condition.summary_ko = f"요약 {round_number}"
    condition.save()
    for item in condition.items.all():
        item.text_ko = f"항목 {round_number}"
        item.save()
    for link in condition.condition_treatments.all():
        link.note_en = f"note {round_number}"
        link.save()
    for reference in condition.references.all():
        reference.citation = f"Citation {round_number}"
        reference.save()
    for review in condition.translation_reviews.all():
        review.reviewer_name = f"Dr Kim {round_number}"
        review.save()
    condition.specialties.add(make_specialty())


def test_the_changes_page_is_read_in_a_fixed_number_of_queries(editor_client, django_assert_max_num_queries):
    condition = make_condition(symptoms=2, causes=1, treatments=2)
    Reference.objects.create(condition=condition, citation="Citation")
    condition.translation_reviews.create(language="ko", reviewer_name="Dr Kim")
    change_everything(condition, 1)

    with CaptureQueriesContext(connection) as few:
        assert editor_client.get(changes_url(condition)).status_code == 200
    for round_number in range(2, 6):
        change_everything(condition, round_number)
    with django_assert_max_num_queries(30), CaptureQueriesContext(connection) as many:
        html = editor_client.get(changes_url(condition)).content.decode()

    assert len(many) == len(few)
    listed = entries(html)
    assert len(listed) == 25
    assert any(entry.startswith("Dr Kim") or "Translation review" in entry for entry in listed)
    assert "Page 1 of 3" in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_editor_restores_a_korean_name_in_the_browser(page, demo_site, console_errors):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed")
    treatment = Treatment.objects.filter(name_ko__gt="").first()
    korean_name = treatment.name_ko
    # An earlier change of the address by someone else, which cannot be restored: it is taken now.
    old_slug = treatment.slug
    treatment.slug = f"{old_slug}-renamed"
    treatment.save()
    make_treatment(slug=old_slug, name_en="A newer treatment")
    make_staff("editor", CONTENT_EDITOR)
    staff_sign_in(page, demo_site, "editor", "a-long-staff-password", next_path=change_url(treatment))

    page.click("a[href='#tab_id_name_ko']")
    page.fill("#id_name_ko", "잘못 고친 이름")
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    page.click("a.content-changes-link")
    page.wait_for_url(f"**{changes_url(treatment)}")

    slug_row = page.locator("tr", has=page.locator("th", has_text="slug"))
    slug_row.get_by_role("button", name="Restore the earlier value").click()
    page.locator(".messagelist .error", has_text="was not restored").wait_for()
    treatment.refresh_from_db()
    assert (treatment.slug, treatment.name_ko) == (f"{old_slug}-renamed", "잘못 고친 이름")

    name_row = page.locator("tr", has=page.locator("th", has_text="name [ko]")).first
    assert "잘못 고친 이름" in name_row.inner_text()
    name_row.get_by_role("button", name="Restore the earlier value").click()
    page.locator(".messagelist .success", has_text="“name [ko]”").wait_for()
    treatment.refresh_from_db()
    assert treatment.name_ko == korean_name
    newest = page.locator("li.content-change").first
    assert "잘못 고친 이름" in newest.inner_text() and korean_name in newest.inner_text()
    page.goto(f"{demo_site.url}{change_url(treatment)}")
    page.click("a[href='#tab_id_name_ko']")
    assert page.input_value("#id_name_ko") == korean_name
    assert console_errors == []


def test_a_clinics_page_names_each_kind_of_its_rows(django_assert_max_num_queries):
    neurology = make_specialty(name_en="Neurology")
    botox = make_treatment(name_en="Botulinum toxin")
    clinic = make_clinic(name_en="Hanbit Clinic", treatments=[botox], specialties=[neurology])
    clinic.languages.create(language="ru", role="coordinator")
    clinic.services.create(service="airport_pickup")
    Accreditation.objects.create(clinic=clinic, kind="koiha")
    make_doctor(clinic, name_en="Dr Lee Minho", specialties=[neurology])
    ClinicTreatment.objects.create(clinic=clinic, treatment=make_treatment(name_en="Baclofen pump"))
    client = signed_in(make_staff("clinics", CLINIC_MANAGER))

    with django_assert_max_num_queries(30):
        html = client.get(changes_url(clinic)).content.decode()

    listed = " | ".join(entries(html))
    for row in (
        "Treatment offered: Hanbit Clinic → Baclofen pump",
        "Doctor: Dr Lee Minho",
        "Accreditation: KOIHA national accreditation",
        "International service: Airport pickup",
        "Language supported: Russian (International coordinator)",
        "Clinic: Hanbit Clinic",
    ):
        assert f"system or import · Created {row}" in listed
    assert "specialties (empty) → Neurology" in listed


def test_a_clinic_is_not_published_again_by_a_restore_that_breaks_its_rules():
    clinic = make_clinic(foreign_patient_registration_number="")
    clinic.is_published = False
    clinic.save()
    client = signed_in(make_staff("clinics", CLINIC_MANAGER))

    response = restore(client, clinic, "is_published")

    clinic.refresh_from_db()
    assert clinic.is_published is False
    html = unescape(client.get(response["Location"]).content.decode())
    assert "“published” was not restored: A published clinic needs its foreign-patient attraction" in html
