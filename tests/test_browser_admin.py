"""The content admin in a real Chromium: the clonus page and one of its sections saved (after a
validation error), new rows opening on English, the marks on languages lacking text, a minimal
clinic added, then given a doctor, and the publication rules refusing, then accepting, a change."""

from django.conf import settings
from playwright.sync_api import expect

from clinics.models import Clinic
from conditions.models import Condition, ConditionSection
from staff.roles import CLINIC_MANAGER, CONTENT_EDITOR
from tests.support.browser import browser_marks, staff_sign_in
from tests.support.staff import make_staff

pytestmark = browser_marks()

PASSWORD = "a-long-staff-password"


def posted_field_count(page, form_id):
    return page.evaluate(f"[...new FormData(document.getElementById('{form_id}')).keys()].length")


def active_tab_languages(page, row_selector):
    return page.locator(f"{row_selector} .ui-tabs-active a").evaluate_all(
        "anchors => anchors.map(a => a.dataset.language || a.textContent.trim())"
    )


def test_an_editor_saves_the_clonus_page_and_a_section_after_a_mistake(page, demo_site, console_errors):
    clonus = Condition.objects.get(slug="clonus")
    make_staff("editor", CONTENT_EDITOR)
    change_path = f"/admin/conditions/condition/{clonus.pk}/change/"
    page.set_viewport_size({"width": 1280, "height": 900})
    staff_sign_in(page, demo_site, "editor", PASSWORD, next_path=change_path)

    # The condition's own page: a fraction of the fields and of the height it had with every entry.
    assert posted_field_count(page, "condition_form") < 400
    assert page.evaluate("document.documentElement.scrollHeight") < 12000
    assert page.locator("li.translation-missing").count() == 0
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    clonus.refresh_from_db()
    assert clonus.name_ko == "클로누스"

    # A section of its lists, on its own page.
    page.click(".list-sections a:text-is('Symptom')")
    page.wait_for_url(f"**/admin/conditions/condition/{clonus.pk}/items/symptom/")
    assert posted_field_count(page, "condition_form") < 200
    # Working in Korean, the editor adds an entry: it opens on English all the same.
    page.select_option("#modeltranslation-main-switch", label="ko")
    assert set(active_tab_languages(page, "#items-0")) == {"ko"}
    page.click("text=Add another Symptom")
    assert set(active_tab_languages(page, "#items-5")) == {"en"}
    last = clonus.items.filter(section="symptom").order_by("position").last().position
    assert page.input_value("#id_items-5-position") == str(last + 1)

    # A title without the text: refused, and what was typed is still there.
    page.fill("#id_items-5-title_en", "Ankle jerks")
    page.click("input[name=_continue]")
    page.locator(".errornote").wait_for()
    assert page.input_value("#id_items-5-title_en") == "Ankle jerks"
    page.fill("#id_items-5-text_en", "Rhythmic jerks of the ankle when the foot is pushed up.")
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    added = clonus.items.get(title_en="Ankle jerks")
    assert added.section == ConditionSection.SYMPTOM

    # The new entry has only English: its other tabs are marked, and so are those languages.
    index = list(clonus.items.filter(section="symptom").order_by("position", "pk")).index(added)
    row = f"#items-{index}"
    others = len(settings.LANGUAGES) - 1
    # The marks are set by script once the tabs are built: wait for them rather than read them at once.
    expect(page.locator(f"{row} li.translation-missing")).to_have_count(2 * others)
    expect(page.locator("#modeltranslation-main-switch option", has_text="text missing")).to_have_count(
        others
    )
    # Typing the Korean text takes the mark off that tab.
    page.click(f"a[href='#tab_id_items-{index}-text_ko']")
    page.fill(f"#id_items-{index}-text_ko", "발을 위로 밀면 발목이 규칙적으로 떨린다.")
    expect(page.locator(f"{row} li.translation-missing")).to_have_count(2 * others - 1)
    page.click("input[name=_save]")
    page.wait_for_url(f"**{change_path}")
    added.refresh_from_db()
    assert added.text_ko == "발을 위로 밀면 발목이 규칙적으로 떨린다."
    assert [error for error in console_errors if "status of 400" not in error] == []


def test_a_clinic_manager_adds_a_minimal_clinic_then_a_doctor(page, demo_site, console_errors):
    make_staff("clinics", CLINIC_MANAGER)
    staff_sign_in(page, demo_site, "clinics", PASSWORD, next_path="/admin/clinics/clinic/add/")
    assert posted_field_count(page, "clinic_form") == 8  # seven fields and the CSRF token

    # The English address forgotten first.
    page.fill("#id_name_en", "Mapo Spine Clinic")
    page.fill("#id_legal_name_ko", "마포척추의원")
    page.select_option("#id_kind", index=1)
    page.select_option("#id_city", "seoul")
    page.fill("#id_address_ko", "서울특별시 마포구 양화로 1")
    page.click("input[name=_save]")
    page.locator(".errornote").wait_for()
    assert page.input_value("#id_slug") == "mapo-spine-clinic"
    page.fill("#id_address_en", "1 Yanghwa-ro, Mapo-gu, Seoul")
    page.click("input[name=_save]")
    page.locator(".messagelist .success", has_text="was added, unpublished").wait_for()
    clinic = Clinic.objects.get(slug="mapo-spine-clinic")
    assert page.url.endswith(f"/admin/clinics/clinic/{clinic.pk}/change/")
    assert clinic.is_published is False

    # The doctor's row opens on English though the page was switched to Russian; languages are ticked.
    # Only the English name exists: every other language is marked as lacking text.
    expect(page.locator("#modeltranslation-main-switch option", has_text="text missing")).to_have_count(7)
    page.select_option("#modeltranslation-main-switch", label="ru – text missing")
    page.click("text=Add another Doctor")
    assert set(active_tab_languages(page, "#doctors-0")) == {"en"}
    page.fill("#id_doctors-0-name_en", "Dr Lee Minho")
    page.fill("#id_doctors-0-slug", "lee-minho")
    # The specialties are looked up as they are typed.
    page.click("#doctors-0 .field-specialties .select2-selection")
    page.keyboard.type("Neuro")
    page.click(".select2-results__option >> text=Neurology")
    page.check("input[name='doctors-0-languages'][value='ru']")
    page.check("input[name='doctors-0-languages'][value='en']")
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    doctor = clinic.doctors.get()
    assert (doctor.name_en, doctor.slug, doctor.languages) == ("Dr Lee Minho", "lee-minho", ["en", "ru"])
    assert [specialty.slug for specialty in doctor.specialties.all()] == ["neurology"]
    assert page.is_checked("input[name='doctors-0-languages'][value='ru']")
    # A row of a table (a treatment offered, with its note in each language) opens on English too.
    page.select_option("#modeltranslation-main-switch", label="ru – text missing")
    page.click("text=Add another Treatment offered")
    assert set(active_tab_languages(page, "#clinic_treatments-0")) == {"en"}
    assert [error for error in console_errors if "status of 400" not in error] == []


def test_an_editor_cannot_publish_clonus_without_its_english_care_intro(page, demo_site, console_errors):
    clonus = Condition.objects.get(slug="clonus")
    care_intro, summary = clonus.care_intro_en, clonus.summary_en
    make_staff("editor", CONTENT_EDITOR)
    staff_sign_in(
        page, demo_site, "editor", PASSWORD, next_path=f"/admin/conditions/condition/{clonus.pk}/change/"
    )

    page.fill("#id_care_intro_en", "")
    page.fill("#id_summary_en", "A changed summary.")
    page.click("input[name=_continue]")
    page.locator(".errornote").wait_for()
    page.get_by_text(
        "A published condition needs its “introduction to care and treatment” in English."
    ).wait_for()
    clonus.refresh_from_db()
    assert (clonus.care_intro_en, clonus.summary_en) == (care_intro, summary)

    page.fill("#id_care_intro_en", care_intro)
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    clonus.refresh_from_db()
    # The page was published: the change goes to medical review, and the page stays online.
    assert (clonus.status, clonus.summary_en) == ("in_review", "A changed summary.")
    assert clonus.published_at is not None
    assert [error for error in console_errors if "status of 400" not in error] == []


def test_a_clinic_manager_cannot_publish_a_clinic_without_a_registration_number(
    page, demo_site, console_errors
):
    clinic = Clinic.objects.get(slug="unlisted-neurology-clinic")
    make_staff("clinics", CLINIC_MANAGER)
    staff_sign_in(
        page, demo_site, "clinics", PASSWORD, next_path=f"/admin/clinics/clinic/{clinic.pk}/change/"
    )

    page.check("#id_is_published")
    page.click("input[name=_continue]")
    page.locator(".errornote").wait_for()
    page.get_by_text(
        "A published clinic needs its foreign-patient attraction registration number."
    ).wait_for()
    clinic.refresh_from_db()
    assert clinic.is_published is False

    page.fill("#id_foreign_patient_registration_number", "SAMPLE-2024-0999")
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    clinic.refresh_from_db()
    assert (clinic.is_published, clinic.foreign_patient_registration_number) == (True, "SAMPLE-2024-0999")
    assert [error for error in console_errors if "status of 400" not in error] == []
