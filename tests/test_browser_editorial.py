"""The editorial workflow in a real Chromium: a second condition written entirely in the admin, sent to
review, published by a medical reviewer after a mistake in the sign-off, and found on the site with its
matching clinics; a translation checked after a mistake; a published page edited goes back to review."""

from django.utils import timezone

from conditions.models import Condition, ConditionStatus
from staff.roles import CONTENT_EDITOR, MEDICAL_REVIEWER
from tests.support.browser import browser_marks, staff_sign_in
from tests.support.staff import make_staff

pytestmark = browser_marks()

PASSWORD = "a-long-staff-password"


def pick_autocomplete(page, select_id, typed):
    """Choose an option of an admin autocomplete (select2) field by typing part of its name."""
    page.click(f"#{select_id} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", typed)
    page.locator(".select2-results__option", has_text=typed).first.click()


def test_a_second_condition_is_written_reviewed_published_and_found_with_its_clinics(
    page, browser, demo_site, console_errors
):
    make_staff("editor", CONTENT_EDITOR)
    make_staff("reviewer", MEDICAL_REVIEWER, first_name="Minho", last_name="Park")
    page.set_viewport_size({"width": 1280, "height": 900})
    staff_sign_in(page, demo_site, "editor", PASSWORD, next_path="/admin/conditions/condition/add/")

    # The overview forgotten first: refused, what was typed kept.
    page.fill("#id_name_en", "Essential tremor")
    page.fill("#id_summary_en", "A common movement disorder that makes the hands shake.")
    page.fill("#id_symptoms_intro_en", "The shaking is worse when the hands are in use.")
    page.fill("#id_care_intro_en", "Medicines, injections and, rarely, surgery reduce the tremor.")
    page.select_option("#id_specialties_from", label="Neurosurgery")
    page.click("#id_specialties_add")
    page.click("text=Add another Treatment for this condition")
    pick_autocomplete(page, "id_condition_treatments-0-treatment", "Benzodiazepines")
    page.click("text=Add another Treatment for this condition")
    pick_autocomplete(page, "id_condition_treatments-1-treatment", "Botulinum toxin injection")
    page.click("input[name=_continue]")
    page.locator(".errornote").wait_for()
    assert page.input_value("#id_slug") == "essential-tremor"
    assert not Condition.objects.filter(slug="essential-tremor").exists()

    page.fill("#id_overview_en", "Essential tremor is a nerve disorder causing rhythmic shaking.")
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    tremor = Condition.objects.get(slug="essential-tremor")
    assert tremor.status == ConditionStatus.DRAFT
    assert [link.treatment.slug for link in tremor.condition_treatments.order_by("pk")] == [
        "benzodiazepines",
        "botulinum-toxin-injection",
    ]
    assert [specialty.slug for specialty in tremor.specialties.all()] == ["neurosurgery"]

    # The editor previews the draft at its real address, then sends it to medical review.
    preview = page.context.new_page()
    preview.goto(f"{demo_site.url}/en/conditions/essential-tremor/")
    preview.get_by_text("This draft is not on the site. Only staff can see it.").wait_for()
    assert preview.locator("meta[name=robots]").get_attribute("content") == "noindex, nofollow"
    preview.close()
    assert page.locator("a", has_text="Review and publish").count() == 0  # not the editor's to do
    page.click("button:text-is('Send to medical review')")
    page.locator(".messagelist .success", has_text="was sent to medical review").wait_for()
    tremor.refresh_from_db()
    assert tremor.status == ConditionStatus.IN_REVIEW

    # The medical reviewer, in their own session, publishes it; a next review before the review first.
    reviewer = browser.new_context().new_page()
    reviewer.set_viewport_size({"width": 1280, "height": 900})
    staff_sign_in(
        reviewer,
        demo_site,
        "reviewer",
        PASSWORD,
        next_path=f"/admin/conditions/condition/{tremor.pk}/change/",
    )
    reviewer.click("a:text('Review and publish…')")
    assert reviewer.input_value("#id_reviewer_name") == "Minho Park"
    reviewer.fill("#id_reviewer_name", "Dr Park Minho")
    reviewer.fill("#id_reviewer_credentials", "Neurologist, MD, PhD")
    reviewer.fill("#id_next_review_due", "2020-01-01")
    reviewer.click("#publish_form input[type=submit]")
    reviewer.get_by_text("The next review must come after the last review.").wait_for()
    tremor.refresh_from_db()
    assert tremor.status == ConditionStatus.IN_REVIEW
    assert reviewer.input_value("#id_reviewer_credentials") == "Neurologist, MD, PhD"
    next_year = timezone.localdate().replace(year=timezone.localdate().year + 1)
    reviewer.fill("#id_next_review_due", next_year.isoformat())
    reviewer.click("#publish_form input[type=submit]")
    reviewer.locator(".messagelist .success", has_text="is published").wait_for()
    tremor.refresh_from_db()
    assert (tremor.status, tremor.reviewer_name_en, tremor.next_review_due) == (
        ConditionStatus.PUBLISHED,
        "Dr Park Minho",
        next_year,
    )

    # A patient finds it, with the clinics offering its treatments or practising its specialty.
    patient = browser.new_context().new_page()
    patient.goto(f"{demo_site.url}/en/conditions/?q=tremor")
    patient.click("a:text('Essential tremor')")
    patient.get_by_text("Reviewed by").wait_for()
    patient.get_by_text("Dr Park Minho").first.wait_for()
    clinics = set(
        patient.locator("#clinics .clinic-card").evaluate_all("cards => cards.map(c => c.dataset.clinic)")
    )
    assert {
        "bundang-neurology-clinic",
        "daejeon-yuseong-spine-nerve-hospital",
        "hanbit-neuroscience-hospital",
    } <= clinics
    assert (
        "seoul-riverside-rehabilitation-hospital" not in clinics
    )  # neither its treatments nor its specialty
    assert "Preview" not in patient.locator("main").inner_text()

    # The reviewer withdraws it: a draft again, gone from the site.
    reviewer.click("button:text-is('Withdraw from the site')")
    reviewer.locator(".messagelist .success", has_text="was withdrawn from the site").wait_for()
    tremor.refresh_from_db()
    assert (tremor.status, tremor.published_at) == (ConditionStatus.DRAFT, None)
    assert patient.goto(f"{demo_site.url}/en/conditions/essential-tremor/").status == 404
    assert [error for error in console_errors if "404" not in error] == []


def test_a_reviewer_checks_the_korean_translation_after_a_mistake(page, browser, demo_site, console_errors):
    clonus = Condition.objects.get(slug="clonus")
    make_staff("reviewer", MEDICAL_REVIEWER)
    staff_sign_in(
        page, demo_site, "reviewer", PASSWORD, next_path=f"/admin/conditions/condition/{clonus.pk}/change/"
    )
    korean_row = page.locator(".translation-reviews tr[data-language=ko]")
    assert "Not yet checked" in korean_row.inner_text()

    korean_row.locator("a").click()
    page.get_by_text("클로누스").first.wait_for()
    page.fill("#id_reviewer_name", "")
    page.click("#translation_review_form input[type=submit]")
    page.locator(".errorlist").wait_for()
    assert not clonus.translation_reviews.exists()
    page.fill("#id_reviewer_name", "Dr Kim Jisoo")
    page.click("#translation_review_form input[type=submit]")
    page.locator(".messagelist .success").wait_for()
    assert "Checked by Dr Kim Jisoo" in page.locator(".translation-reviews tr[data-language=ko]").inner_text()

    reader = browser.new_context().new_page()
    reader.goto(f"{demo_site.url}/ko/conditions/clonus/")
    assert reader.locator(".condition-header .notice").count() == 0
    reader.goto(f"{demo_site.url}/ja/conditions/clonus/")
    assert reader.locator(".condition-header .notice").count() == 1
    assert console_errors == []
