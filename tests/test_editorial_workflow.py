"""The editorial workflow of a condition page: draft → in medical review → published, back to review
when edited; the sign-off recorded at publication; translation reviews going stale when their texts
change; staff previews of drafts; overdue reviews on the admin's front page."""

import datetime

import pytest
from django.utils import timezone, translation

from conditions.models import Condition, ConditionSection, ConditionStatus
from conditions.services import translation_review_record
from staff.roles import ADMIN, CONTENT_EDITOR, MEDICAL_REVIEWER
from tests.factories import make_condition
from tests.support.admin_forms import as_post_data, form_pairs
from tests.support.staff import make_staff, signed_in

pytestmark = pytest.mark.django_db

UNCHECKED = (
    "This translation has not yet been checked by a medical reviewer. "
    "If anything is unclear, the English version is the reference."
)


def change_url(condition):
    return f"/admin/conditions/condition/{condition.pk}/change/"


def condition_form(client, condition):
    return change_url(condition), form_pairs(
        client.get(change_url(condition)).content.decode(), "condition_form"
    )


def publish_url(condition):
    return f"/admin/conditions/condition/{condition.pk}/publish/"


def workflow_url(condition, action):
    return f"/admin/conditions/condition/{condition.pk}/workflow/{action}/"


def review_url(condition, language):
    return f"/admin/conditions/condition/{condition.pk}/translations/{language}/"


def sign_off(**fields):
    today = timezone.localdate()
    return {
        "reviewer_name": "Dr Park Minho",
        "reviewer_credentials": "Neurologist, MD, PhD",
        "reviewed_on": today.isoformat(),
        "next_review_due": (today + datetime.timedelta(days=365)).isoformat(),
        **fields,
    }


@pytest.fixture
def editor():
    return signed_in(make_staff("editor", CONTENT_EDITOR))


@pytest.fixture
def reviewer():
    return signed_in(make_staff("reviewer", MEDICAL_REVIEWER, first_name="Minho", last_name="Park"))


def test_a_draft_goes_to_review_and_the_reviewer_publishes_it_with_their_sign_off(client, editor, reviewer):
    draft = make_condition(status=ConditionStatus.DRAFT, reviewer_name_en="", reviewer_credentials_en="")
    assert client.get(draft.get_absolute_url()).status_code == 404

    # The editor may send it to review, not publish it.
    assert editor.get(publish_url(draft)).status_code == 404
    assert editor.post(workflow_url(draft, "submit")).status_code == 302
    draft.refresh_from_db()
    assert draft.status == ConditionStatus.IN_REVIEW
    assert editor.get(publish_url(draft)).status_code == 404
    assert client.get(draft.get_absolute_url()).status_code == 404  # in review is not on the site

    page = reviewer.get(publish_url(draft)).content.decode()
    assert 'value="Minho Park"' in page  # the reviewer's own name, to confirm
    response = reviewer.post(publish_url(draft), sign_off())

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == ConditionStatus.PUBLISHED
    assert (draft.reviewer_name_en, draft.reviewer_credentials_en) == (
        "Dr Park Minho",
        "Neurologist, MD, PhD",
    )
    assert draft.last_reviewed == timezone.localdate()
    assert draft.next_review_due == timezone.localdate() + datetime.timedelta(days=365)
    assert draft.published_at is not None
    public = client.get(draft.get_absolute_url()).content.decode()
    assert "Dr Park Minho" in public and "Neurologist, MD, PhD" in public


def test_publication_is_refused_with_the_rules_messages_and_nothing_saved(reviewer):
    condition = make_condition(status=ConditionStatus.IN_REVIEW, care_intro_en="")

    with translation.override("ko"):
        response = reviewer.post(
            publish_url(condition), sign_off(reviewer_name="김민호"), HTTP_ACCEPT_LANGUAGE="ko"
        )

    assert response.status_code == 200
    assert "게시하는 질환에는 영어로 된 “관리 및 치료 소개”이(가) 필요합니다." in response.content.decode()
    condition.refresh_from_db()
    assert (condition.status, condition.reviewer_name_en, condition.published_at) == (
        ConditionStatus.IN_REVIEW,
        "Dr Kim Jisoo",
        None,
    )


def test_the_sign_off_dates_must_make_sense(reviewer):
    condition = make_condition(status=ConditionStatus.IN_REVIEW)
    today = timezone.localdate()

    response = reviewer.post(
        publish_url(condition),
        sign_off(
            reviewed_on=(today + datetime.timedelta(days=3)).isoformat(), next_review_due=today.isoformat()
        ),
    )

    page = response.content.decode()
    assert "The review date cannot be in the future." in page
    condition.refresh_from_db()
    assert condition.status == ConditionStatus.IN_REVIEW


def test_editing_a_published_page_sends_it_back_to_review_and_it_stays_online(client, editor, reviewer):
    condition = make_condition(symptoms=2)
    url, pairs = condition_form(editor, condition)

    response = editor.post(url, as_post_data(pairs, summary_en="A corrected summary."), follow=True)

    assert "your changes go to medical review" in response.content.decode()
    condition.refresh_from_db()
    assert condition.status == ConditionStatus.IN_REVIEW
    public = client.get(condition.get_absolute_url()).content.decode()
    assert "A corrected summary." in public
    assert "after its last medical review. A medical reviewer is checking the changes." in public
    assert condition in Condition.objects.awaiting_review()

    assert reviewer.post(publish_url(condition), sign_off()).status_code == 302
    condition.refresh_from_db()
    assert condition.status == ConditionStatus.PUBLISHED
    assert (
        "A medical reviewer is checking the changes."
        not in client.get(condition.get_absolute_url()).content.decode()
    )


def test_saving_a_published_page_unchanged_keeps_it_published(editor):
    condition = make_condition()
    url, pairs = condition_form(editor, condition)

    assert editor.post(url, as_post_data(pairs)).status_code == 302

    condition.refresh_from_db()
    assert condition.status == ConditionStatus.PUBLISHED


def test_withdrawing_takes_a_page_off_the_site(client, editor, reviewer):
    condition = make_condition()

    assert editor.post(workflow_url(condition, "withdraw")).status_code == 404
    assert reviewer.get(workflow_url(condition, "withdraw")).status_code == 404  # POST only
    assert reviewer.post(workflow_url(condition, "withdraw")).status_code == 302

    condition.refresh_from_db()
    assert (condition.status, condition.published_at) == (ConditionStatus.DRAFT, None)
    assert client.get(condition.get_absolute_url()).status_code == 404
    assert "/conditions/" + condition.slug not in client.get("/sitemap.xml").content.decode()


def test_staff_preview_a_draft_at_its_real_url_marked_and_kept_out_of_search_engines(client, editor):
    draft = make_condition(status=ConditionStatus.DRAFT, name_en="Myoclonus")
    coordinator_without_access = signed_in(make_staff("someone"))  # staff, but no role

    assert client.get(draft.get_absolute_url()).status_code == 404
    assert coordinator_without_access.get(draft.get_absolute_url()).status_code == 404
    response = editor.get(draft.get_absolute_url())

    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Myoclonus</h1>" in page
    assert "This draft is not on the site. Only staff can see it." in page
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]
    assert "application/ld+json" not in page
    # A published page is no preview.
    published = editor.get(make_condition().get_absolute_url())
    assert "noindex" not in published.content.decode() and "X-Robots-Tag" not in published


def test_a_translation_review_goes_stale_when_its_texts_change(client, reviewer, editor):
    condition = make_condition(symptoms=1, name_ko="간대성 근경련", summary_ko="요약", overview_ko="개요")
    with translation.override("ko"):
        notice = translation.gettext(UNCHECKED)
    assert notice in client.get(f"/ko/conditions/{condition.slug}/").content.decode()

    # The reviewer reads the Korean beside the English and records the check.
    page = reviewer.get(review_url(condition, "ko")).content.decode()
    assert "간대성 근경련" in page and "Not yet checked" in page
    assert reviewer.post(review_url(condition, "ko"), {"reviewer_name": ""}).status_code == 200  # refused
    assert not condition.translation_reviews.exists()
    assert reviewer.post(review_url(condition, "ko"), {"reviewer_name": "Dr Park"}).status_code == 302
    assert notice not in client.get(f"/ko/conditions/{condition.slug}/").content.decode()
    assert "Checked by Dr Park" in reviewer.get(change_url(condition)).content.decode()

    # English edited: the Korean check still stands.
    condition.summary_en = "A better English summary."
    condition.save()
    assert notice not in client.get(f"/ko/conditions/{condition.slug}/").content.decode()

    # A Korean list entry edited on its section page: the check is stale, and readers are told again.
    symptom = condition.items.get(section=ConditionSection.SYMPTOM)
    symptom.text_ko = "발목 떨림"
    symptom.save()
    assert notice in client.get(f"/ko/conditions/{condition.slug}/").content.decode()
    assert "Stale: edited since Dr Park checked it" in reviewer.get(change_url(condition)).content.decode()
    # Other languages are not affected by it; a new check brings the Korean back.
    assert reviewer.post(review_url(condition, "ko"), {"reviewer_name": "Dr Park"}).status_code == 302
    assert notice not in client.get(f"/ko/conditions/{condition.slug}/").content.decode()


def test_only_reviewers_record_translation_checks(editor):
    condition = make_condition()

    assert editor.get(review_url(condition, "ko")).status_code == 404
    assert editor.post(review_url(condition, "ko"), {"reviewer_name": "Me"}).status_code == 404
    assert not condition.translation_reviews.exists()


def test_a_check_is_current_only_while_its_texts_are_unchanged():
    condition = make_condition(name_ru="Клонус")
    review = translation_review_record(condition=condition, language="ru", reviewer_name="Dr Ivanova")

    assert review.is_current()
    condition.name_ru = "Клонус стопы"
    condition.save()
    review.refresh_from_db()
    assert not review.is_current()


def test_overdue_reviews_and_pages_waiting_for_review_are_on_the_admin_front_page(editor):
    overdue = make_condition(name_en="Tremor", next_review_due=datetime.date(2020, 1, 1))
    current = make_condition(name_en="Chorea")
    waiting = make_condition(name_en="Athetosis", status=ConditionStatus.IN_REVIEW)
    draft_past_due = make_condition(
        name_en="Tics", status=ConditionStatus.DRAFT, next_review_due=datetime.date(2020, 1, 1)
    )

    page = editor.get("/admin/").content.decode()

    panel = page.split('class="module editorial-panel"', 1)[1].split("</div>", 1)[0]
    overdue_rows = panel.split("Waiting for medical review")[0]
    assert overdue.name_en in overdue_rows
    assert current.name_en not in panel and draft_past_due.name_en not in overdue_rows
    assert waiting.name_en in panel.split("Waiting for medical review")[1]
    assert "/admin/conditions/condition/?review=overdue" in panel


def test_the_front_page_panel_is_for_those_who_see_conditions():
    make_condition(name_en="Tremor", next_review_due=datetime.date(2020, 1, 1))
    outsider = signed_in(make_staff("outsider"))
    admin = signed_in(make_staff("boss", ADMIN))

    assert "editorial-panel" not in outsider.get("/admin/").content.decode()
    assert "Tremor" in admin.get("/admin/").content.decode()
