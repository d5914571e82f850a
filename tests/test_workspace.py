"""The coordinators' workspace: inbox, filters and counts, one inquiry, and every action on it."""

import uuid
from html import unescape

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from clinics.models import Clinic
from inquiries.models import Inquiry, InquiryStatus, TimelineKind
from staff.models import AuditAction, AuditEntry
from staff.roles import COORDINATOR, COORDINATOR_LEAD
from tests.support.patients import follow_up_url_from, path_of, submit
from tests.support.staff import make_staff, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(request_choices):
    hanbit = Clinic.objects.get(slug="hanbit-neuroscience-hospital")
    return {
        "ko_coordinator": make_staff("minji", COORDINATOR, languages=["ru", "ko"]),
        "mn_coordinator": make_staff("bold", COORDINATOR, languages=["mn"]),
        "limited": make_staff("limited", COORDINATOR, clinics=[hanbit]),
        "lead": make_staff("lead", COORDINATOR_LEAD),
    }


@pytest.fixture
def requests_in(client, team):
    """Five requests: ru (with the patient's link), mn, vi, ru for Busan, ja."""
    links = {}
    for email, language, clinic, name in [
        ("anna@example.com", "ru", "hanbit-neuroscience-hospital", "Anna Ivánova"),
        ("bat@example.com", "mn", "hanbit-neuroscience-hospital", "Bat Erdene"),
        ("lan@example.com", "vi", "hanbit-neuroscience-hospital", "Nguyen Lan"),
        ("olga@example.com", "ru", "busan-haeundae-neuro-centre", "Olga Petrova"),
        ("yuki@example.com", "ja", "busan-haeundae-neuro-centre", "Yuki Sato"),
    ]:
        submit(client, email=email, language=language, preferred_clinics=[clinic], full_name=name)
        [confirmation] = [e for e in mail.outbox if e.to == [email]]
        links[email] = path_of(follow_up_url_from(confirmation))
    mail.outbox.clear()
    return {inquiry.email: inquiry for inquiry in Inquiry.objects.all()}, links


def references(response):
    """The references listed in the inbox, in the page's order."""
    html = response.content.decode()
    listed = [(html.find(f">{i.reference}</a>"), i.reference) for i in Inquiry.objects.all()]
    return [reference for position, reference in sorted(listed) if position >= 0]


def version_of(inquiry):
    """The version a freshly loaded page would carry."""
    return Inquiry.objects.values_list("version", flat=True).get(pk=inquiry.pk)


# --- inbox ---------------------------------------------------------------------------------------


def test_the_default_queue_is_mine_then_unassigned_in_my_languages_most_urgent_first(requests_in, team):
    inquiries, _ = requests_in
    minji, bold = team["ko_coordinator"], team["mn_coordinator"]
    Inquiry.objects.filter(pk=inquiries["yuki@example.com"].pk).update(assigned_to=minji)
    Inquiry.objects.filter(pk=inquiries["bat@example.com"].pk).update(assigned_to=bold)
    Inquiry.objects.filter(pk=inquiries["olga@example.com"].pk).update(
        first_response_due_at=timezone.now() - timezone.timedelta(hours=1)
    )
    listed = references(signed_in(minji).get("/workspace/"))
    assert listed == [
        inquiries["yuki@example.com"].reference,  # mine, though in Japanese
        inquiries["olga@example.com"].reference,  # unassigned, Russian, overdue
        inquiries["anna@example.com"].reference,  # unassigned, Russian
    ]


def test_filters_live_in_the_url_and_combine(requests_in, team):
    inquiries, _ = requests_in
    lead = signed_in(team["lead"])
    assert references(lead.get("/workspace/?language=ru")) == [
        inquiries["anna@example.com"].reference,
        inquiries["olga@example.com"].reference,
    ]
    assert references(lead.get("/workspace/?clinic=busan-haeundae-neuro-centre&language=ja")) == [
        inquiries["yuki@example.com"].reference
    ]
    assert len(references(lead.get("/workspace/?condition=clonus&status=received"))) == 5
    assert references(lead.get("/workspace/?assigned=me")) == []
    assert len(references(lead.get("/workspace/?assigned=none"))) == 5


@pytest.mark.parametrize("query", ["ANNA", "ivanova", "ｉｖａｎｏｖａ", "anna@example", "Ivánova"])
def test_search_folds_case_width_and_accents(requests_in, team, query):
    inquiries, _ = requests_in
    found = references(signed_in(team["lead"]).get("/workspace/", {"q": query}))
    assert found == [inquiries["anna@example.com"].reference]


def test_search_by_reference(requests_in, team):
    inquiries, _ = requests_in
    reference = inquiries["lan@example.com"].reference
    assert references(signed_in(team["lead"]).get("/workspace/", {"q": reference.lower()})) == [reference]


def test_overdue_and_unread_filters_and_the_counts(requests_in, team):
    inquiries, links = requests_in
    now = timezone.now()
    Inquiry.objects.filter(pk=inquiries["anna@example.com"].pk).update(
        first_response_due_at=now - timezone.timedelta(seconds=5)
    )
    Inquiry.objects.filter(pk=inquiries["bat@example.com"].pk).update(
        first_response_due_at=now + timezone.timedelta(seconds=30)
    )
    Client().post(
        links["lan@example.com"],
        {"message": "Any news?", "submission_key": "8f4e0b9a-1c6d-4e3f-9a2b-5c7d8e9f0a1b"},
    )
    lead = signed_in(team["lead"])
    assert references(lead.get("/workspace/?overdue=on")) == [inquiries["anna@example.com"].reference]
    assert references(lead.get("/workspace/?unread=on")) == [inquiries["lan@example.com"].reference]
    page = unescape(lead.get("/workspace/?status=received").content.decode())
    assert 'data-count="overdue">1<' in page
    assert 'data-count="unassigned">5<' in page
    assert 'data-count="received">5<' in page
    assert 'data-count="mine">0<' in page


def test_a_limited_coordinator_sees_only_their_clinics_requests(requests_in, team):
    inquiries, _ = requests_in
    limited = signed_in(team["limited"])
    listed = references(limited.get("/workspace/?assigned=any"))
    assert sorted(listed) == sorted(
        inquiries[email].reference for email in ("anna@example.com", "bat@example.com", "lan@example.com")
    )
    assert limited.get(f"/workspace/{inquiries['olga@example.com'].reference}/").status_code == 404
    page = unescape(limited.get("/workspace/?status=received").content.decode())
    assert 'data-count="received">3<' in page


def test_the_inbox_costs_the_same_number_of_queries_for_few_and_many_rows(client, requests_in, team):
    lead = signed_in(team["lead"])
    limited = signed_in(team["limited"])

    def queries(staff, url):
        with CaptureQueriesContext(connection) as captured:
            assert staff.get(url).status_code == 200
        return len(captured)

    # Session, user, second factor, the permissions of the user and their groups (one read), the page's
    # rows and their clinics, every count in one read, the condition and clinic choices of the filter.
    few = queries(lead, "/workspace/?assigned=any")
    assert few == 9
    # A coordinator's languages and clinics are one more read; the chosen condition and clinic are
    # checked against the choices the menus show, not read again.
    filtered = "/workspace/?assigned=any&condition=clonus&clinic=hanbit-neuroscience-hospital"
    few_filtered = queries(limited, filtered)
    assert few_filtered == 10
    rows_before = len(references(limited.get(filtered)))
    for number in range(12):
        submit(client, email=f"more{number}@example.com")
    assert queries(lead, "/workspace/?assigned=any") == few
    assert queries(limited, filtered) == few_filtered
    assert len(references(limited.get(filtered))) > rows_before


# --- one inquiry ---------------------------------------------------------------------------------


def test_a_korean_coordinator_answers_a_russian_patient_in_russian(requests_in, team):
    inquiries, links = requests_in
    anna = inquiries["anna@example.com"]
    minji = signed_in(team["ko_coordinator"], client=Client(HTTP_ACCEPT_LANGUAGE="ko"))
    page = unescape(minji.get(f"/workspace/{anna.reference}/?template=reviewing").content.decode())
    with translation.override("ko"):
        assert translation.gettext("Reply to the patient") in page  # the coordinator's language
    with translation.override("ru"):
        russian = translation.gettext(
            "Dear %(name)s,\n\nthank you for your request %(reference)s. A coordinator is now reading it "
            "together with your medical records. We will write to you again within two working days."
        ) % {"name": anna.full_name, "reference": anna.reference}
    assert russian.split("\n")[-1] in page  # the composer holds it in the patient's language
    response = minji.post(
        f"/workspace/{anna.reference}/reply/", {"message": russian, "version": anna.version}
    )
    assert response.status_code == 302
    anna.refresh_from_db()
    assert anna.first_responded_at is not None
    [notice] = mail.outbox
    assert notice.to == ["anna@example.com"]
    with translation.override("ru"):
        assert notice.subject == translation.gettext("News about your request %(reference)s") % {
            "reference": anna.reference
        }
    assert russian.split("\n")[-1] in unescape(Client().get(links["anna@example.com"]).content.decode())


def test_internal_notes_never_reach_the_patient(requests_in, team):
    inquiries, links = requests_in
    anna = inquiries["anna@example.com"]
    minji = signed_in(team["ko_coordinator"])
    minji.post(f"/workspace/{anna.reference}/note/", {"note": "Call Dr. Kim before answering", "version": 1})
    assert mail.outbox == []
    assert "Dr. Kim" not in Client().get(links["anna@example.com"]).content.decode()
    page = unescape(minji.get(f"/workspace/{anna.reference}/").content.decode())
    assert "Call Dr. Kim before answering" in page
    assert "Internal — never shown to the patient" in page
    anna.refresh_from_db()
    assert anna.first_responded_at is None  # a note is no answer


def test_closing_needs_a_reason_and_reopening_is_recorded(requests_in, team):
    inquiries, _ = requests_in
    anna = inquiries["anna@example.com"]
    lead = signed_in(team["lead"])
    refused = lead.post(f"/workspace/{anna.reference}/status/", {"status": "answered", "version": 1})
    assert refused.status_code == 400  # not a move the map allows from "received"
    no_reason = lead.post(f"/workspace/{anna.reference}/status/", {"status": "closed", "version": 1})
    assert no_reason.status_code == 400
    assert "Choose why the request is closed." in unescape(no_reason.content.decode())
    closed = lead.post(
        f"/workspace/{anna.reference}/status/",
        {"status": "closed", "closing_reason": "duplicate", "version": 1},
    )
    assert closed.status_code == 302
    anna.refresh_from_db()
    assert (anna.status, anna.closing_reason) == (InquiryStatus.CLOSED, "duplicate")
    assert anna.first_responded_at is not None
    reopened = lead.post(
        f"/workspace/{anna.reference}/status/", {"status": "in_review", "version": anna.version}
    )
    assert reopened.status_code == 302
    anna.refresh_from_db()
    assert (anna.status, anna.closing_reason) == (InquiryStatus.IN_REVIEW, "")
    moves = list(anna.timeline.filter(kind=TimelineKind.STATUS).values_list("old_status", "new_status"))
    assert moves == [("received", "closed"), ("closed", "in_review")]
    assert [e.to for e in mail.outbox] == [["anna@example.com"]]  # told of the closing


def test_a_second_coordinator_acting_on_an_old_page_is_told_and_nothing_is_overwritten(requests_in, team):
    inquiries, _ = requests_in
    anna = inquiries["anna@example.com"]
    minji, lead = signed_in(team["ko_coordinator"]), signed_in(team["lead"])
    assert (
        minji.post(
            f"/workspace/{anna.reference}/assign/", {"assignee": team["ko_coordinator"].pk, "version": 1}
        ).status_code
        == 302
    )
    late = lead.post(f"/workspace/{anna.reference}/status/", {"status": "in_review", "version": 1})
    assert late.status_code == 409
    assert "This inquiry was changed by minji" in unescape(late.content.decode())
    anna.refresh_from_db()
    assert anna.status == InquiryStatus.RECEIVED
    assert anna.assigned_to == team["ko_coordinator"]


def test_a_coordinator_takes_an_inquiry_and_only_a_lead_reassigns_it(requests_in, team):
    inquiries, _ = requests_in
    anna = inquiries["anna@example.com"]
    minji, bold = signed_in(team["ko_coordinator"]), signed_in(team["mn_coordinator"])
    assert (
        minji.post(
            f"/workspace/{anna.reference}/assign/", {"assignee": team["ko_coordinator"].pk, "version": 1}
        ).status_code
        == 302
    )
    taken = bold.post(
        f"/workspace/{anna.reference}/assign/", {"assignee": team["mn_coordinator"].pk, "version": 2}
    )
    assert taken.status_code == 400
    anna.refresh_from_db()
    assert anna.assigned_to == team["ko_coordinator"]
    lead_page = unescape(signed_in(team["lead"]).get(f"/workspace/{anna.reference}/").content.decode())
    assert "minji ★ (ru, ko)" in lead_page  # who answers Russian is marked
    moved = signed_in(team["lead"]).post(
        f"/workspace/{anna.reference}/assign/",
        {"assignee": team["mn_coordinator"].pk, "version": anna.version},
    )
    assert moved.status_code == 302
    anna.refresh_from_db()
    assert anna.assigned_to == team["mn_coordinator"]
    assert list(anna.timeline.filter(kind=TimelineKind.ASSIGNED).values_list("body", flat=True)) == [
        "— → minji",
        "minji → bold",
    ]


def test_opening_an_inquiry_clears_its_unread_messages_and_every_action_is_audited(requests_in, team):
    inquiries, links = requests_in
    anna = inquiries["anna@example.com"]
    Client().post(
        links["anna@example.com"],
        {"message": "Hello?", "submission_key": "1f4e0b9a-1c6d-4e3f-9a2b-5c7d8e9f0a1b"},
    )
    anna.refresh_from_db()
    assert anna.unread_patient_messages == 1
    lead = signed_in(team["lead"])
    lead.get(f"/workspace/{anna.reference}/")
    anna.refresh_from_db()
    assert anna.unread_patient_messages == 0
    lead.post(f"/workspace/{anna.reference}/assign/", {"assignee": team["lead"].pk, "version": anna.version})
    lead.post(f"/workspace/{anna.reference}/note/", {"note": "checked", "version": version_of(anna)})
    lead.post(f"/workspace/{anna.reference}/reply/", {"message": "Здравствуйте", "version": version_of(anna)})
    lead.post(f"/workspace/{anna.reference}/status/", {"status": "in_review", "version": version_of(anna)})
    actions = list(
        AuditEntry.objects.filter(object_id=str(anna.pk), username="lead")
        .order_by("at", "id")
        .values_list("action", flat=True)
    )
    assert actions == [
        AuditAction.VIEW,
        AuditAction.ASSIGN,
        AuditAction.MESSAGE,
        AuditAction.MESSAGE,
        AuditAction.STATUS,
    ]


def test_the_first_response_target_is_set_when_the_request_arrives(client, request_choices, settings):
    settings.FIRST_RESPONSE_HOURS = 6
    before = timezone.now()
    submit(client)
    inquiry = Inquiry.objects.get()
    assert (
        before + timezone.timedelta(hours=6)
        <= inquiry.first_response_due_at
        <= timezone.now() + timezone.timedelta(hours=6)
    )


# --- export ---------------------------------------------------------------------------------------


def test_a_lead_exports_the_filtered_list_without_personal_or_health_data(requests_in, team):
    inquiries, _ = requests_in
    formula = make_staff("=HYPERLINK", COORDINATOR)
    Inquiry.objects.filter(pk=inquiries["anna@example.com"].pk).update(assigned_to=formula)
    response = signed_in(team["lead"]).get("/workspace/export.csv", {"language": "ru"})
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("reference,status,received")
    assert len(lines) == 3  # the two Russian requests
    text = "\n".join(lines)
    for private in ("Anna", "anna@example.com", "Olga", "Baclofen", "Multiple sclerosis"):
        assert private not in text
    assert "'=HYPERLINK" in text  # a spreadsheet reads it as text, not as a formula
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.changes["filters"] == {"language": "ru"}
    assert sorted(entry.changes["references"]) == sorted(
        inquiries[email].reference for email in ("anna@example.com", "olga@example.com")
    )


def test_a_coordinator_cannot_export(requests_in, team):
    assert signed_in(team["ko_coordinator"]).get("/workspace/export.csv").status_code == 404


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1"])
def test_cells_that_look_like_formulas_are_neutralised(cell):
    from inquiries.exports import neutralised

    assert neutralised(cell) == "'" + cell
    assert neutralised("CP-1234") == "CP-1234"


def test_next_and_previous_follow_the_list_the_coordinator_came_from(requests_in, team):
    inquiries, _ = requests_in
    anna, olga = inquiries["anna@example.com"], inquiries["olga@example.com"]
    page = unescape(signed_in(team["lead"]).get(f"/workspace/{anna.reference}/?language=ru").content.decode())
    assert f'href="/workspace/{olga.reference}/?language=ru" rel="next"' in page
    assert 'rel="prev"' not in page
    assert 'href="/workspace/?language=ru" data-back' in page


# --- numbers for the team ------------------------------------------------------------------------


def test_the_dashboard_shows_arrivals_response_times_overdue_and_load(requests_in, team):
    inquiries, _ = requests_in
    now = timezone.now()
    for email, hours in (("anna@example.com", 2), ("bat@example.com", 4), ("lan@example.com", 30)):
        inquiry = inquiries[email]
        Inquiry.objects.filter(pk=inquiry.pk).update(
            first_responded_at=inquiry.created_at + timezone.timedelta(hours=hours)
        )
    Inquiry.objects.filter(pk=inquiries["olga@example.com"].pk).update(
        first_response_due_at=now - timezone.timedelta(hours=1), assigned_to=team["ko_coordinator"]
    )
    Inquiry.objects.filter(pk=inquiries["yuki@example.com"].pk).update(assigned_to=team["ko_coordinator"])
    response = signed_in(team["lead"]).get("/workspace/dashboard/")
    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert 'data-figure="median">4.0<' in page
    assert 'data-figure="p90">30.0<' in page
    assert 'data-figure="overdue">1<' in page
    assert '<tr data-load="minji"><th scope="row">minji</th><td>2</td><td>1</td></tr>' in page
    assert "<svg" in page and "<title>" in page
    with CaptureQueriesContext(connection) as captured:
        signed_in(team["lead"]).get("/workspace/dashboard/")
    few = len(captured)
    submit(Client(), email="one-more@example.com")
    with CaptureQueriesContext(connection) as captured:
        signed_in(team["lead"]).get("/workspace/dashboard/")
    assert len(captured) == few


def test_only_leads_and_admins_see_the_numbers(requests_in, team):
    assert signed_in(team["ko_coordinator"]).get("/workspace/dashboard/").status_code == 404


def test_one_inquiry_costs_the_same_number_of_queries_however_long_its_history(requests_in, team):
    inquiries, _links = requests_in
    anna = inquiries["anna@example.com"]
    lead = signed_in(team["lead"])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert lead.get(f"/workspace/{anna.reference}/").status_code == 200
        return len(captured)

    short = queries()
    for number in range(6):
        lead.post(
            f"/workspace/{anna.reference}/note/", {"note": f"note {number}", "version": version_of(anna)}
        )
    anna.refresh_from_db()
    assert anna.timeline.count() >= 7
    assert queries() == short


def test_a_patient_reply_makes_an_older_page_stale_and_the_draft_survives_the_conflict(requests_in, team):
    inquiries, links = requests_in
    anna = inquiries["anna@example.com"]
    lead = signed_in(team["lead"])
    seen_version = anna.version
    Client().post(
        links["anna@example.com"], {"message": "Here are my records", "submission_key": str(uuid.uuid4())}
    )
    late = lead.post(
        f"/workspace/{anna.reference}/status/",
        {"status": "closed", "closing_reason": "no_response", "version": seen_version},
    )
    assert late.status_code == 409
    assert "This inquiry was changed by the patient" in unescape(late.content.decode())
    anna.refresh_from_db()
    assert anna.status == InquiryStatus.RECEIVED

    stale_reply = lead.post(
        f"/workspace/{anna.reference}/reply/", {"message": "My draft", "version": seen_version}
    )
    page = unescape(stale_reply.content.decode())
    assert stale_reply.status_code == 409
    assert "My draft" in page  # nothing typed is lost
    assert f'name="version" value="{anna.version}"' in page
    assert (
        lead.post(
            f"/workspace/{anna.reference}/reply/", {"message": "My draft", "version": anna.version}
        ).status_code
        == 302
    )


def test_a_huge_page_number_is_no_error(requests_in, team):
    response = signed_in(team["lead"]).get("/workspace/", {"page": "9" * 30, "assigned": "any"})
    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert "No inquiries here." in page  # far past the last page: an empty list, not an error
    assert "Page 10000" in page  # the page number is capped


def test_the_queue_counts_match_the_lists_they_link_to(requests_in, team):
    inquiries, _ = requests_in
    lead_user = team["lead"]
    Inquiry.objects.filter(pk=inquiries["anna@example.com"].pk).update(status="closed", closing_reason="spam")
    page = unescape(signed_in(lead_user).get("/workspace/?status=received").content.decode())
    assert 'href="?assigned=none&open=on"' in page
    assert 'data-count="unassigned">4<' in page
    assert len(references(signed_in(lead_user).get("/workspace/?assigned=none&open=on"))) == 4


def test_choosing_a_template_keeps_the_list_the_coordinator_came_from(requests_in, team):
    inquiries, _ = requests_in
    page = unescape(
        signed_in(team["lead"])
        .get(f"/workspace/{inquiries['anna@example.com'].reference}/?language=ru")
        .content.decode()
    )
    assert '<input type="hidden" name="language" value="ru">' in page


@pytest.mark.parametrize(("by", "column"), [("language", "mn"), ("country", "KZ"), ("condition", "clonus")])
def test_the_weekly_numbers_break_down_by_language_country_or_condition(requests_in, team, by, column):
    page = unescape(signed_in(team["lead"]).get("/workspace/dashboard/", {"by": by}).content.decode())
    assert f'data-weekly="{by}"' in page
    assert f'<th scope="col">{column}</th>' in page
