"""Every pair of statuses against the allowed-moves map: an allowed move is made and recorded (and
the patient told when it asks something of them); any other is refused and changes nothing. Built
on factories, without the demo content."""

import itertools

import pytest
from django.core import mail

from inquiries.models import ALLOWED_TRANSITIONS, InquiryStatus, TimelineKind
from inquiries.services import ASKS_THE_PATIENT, TransitionNotAllowed, inquiry_transition
from tests.factories import _path_to, make_inquiry

pytestmark = pytest.mark.django_db

PAIRS = list(itertools.product(InquiryStatus, InquiryStatus))


@pytest.mark.parametrize(("current", "to"), PAIRS, ids=[f"{a.value}->{b.value}" for a, b in PAIRS])
def test_each_status_pair_follows_the_allowed_moves(current, to, coordinator):
    inquiry, _token = make_inquiry(status=current)
    entries_before = inquiry.timeline.count()
    mail.outbox.clear()
    reason = "booked" if to == InquiryStatus.CLOSED else ""

    if to not in ALLOWED_TRANSITIONS[current]:
        with pytest.raises(TransitionNotAllowed):
            inquiry_transition(inquiry=inquiry, to=to, by=coordinator, closing_reason=reason)
        inquiry.refresh_from_db()
        assert inquiry.status == current
        assert inquiry.timeline.count() == entries_before
        assert mail.outbox == []
        return

    inquiry_transition(inquiry=inquiry, to=to, by=coordinator, closing_reason=reason)
    inquiry.refresh_from_db()
    assert inquiry.status == to
    assert (inquiry.closed_at is not None) == (to == InquiryStatus.CLOSED)
    assert inquiry.closing_reason == reason
    change = inquiry.timeline.filter(kind=TimelineKind.STATUS).latest("pk")
    assert (change.old_status, change.new_status, change.author, change.is_public) == (
        current,
        to,
        coordinator,
        True,
    )
    told = [email for email in mail.outbox if inquiry.email in email.to]
    assert bool(told) == (to in ASKS_THE_PATIENT)


def test_every_status_can_be_reached_and_every_open_one_closed():
    for status in InquiryStatus:
        assert status == InquiryStatus.RECEIVED or _path_to(status), status
        if status != InquiryStatus.CLOSED:
            assert InquiryStatus.CLOSED in ALLOWED_TRANSITIONS[status]


def test_a_factory_inquiry_carries_the_timeline_of_its_status():
    inquiry, token = make_inquiry(status=InquiryStatus.ANSWERED)
    changes = list(inquiry.timeline.filter(kind=TimelineKind.STATUS).values_list("old_status", "new_status"))
    assert changes == [("received", "in_review"), ("in_review", "answered")]
    assert inquiry.token_matches(token)


def test_a_submission_key_used_before_returns_the_stored_request_from_any_entrance():
    import uuid

    from inquiries.models import Inquiry
    from inquiries.services import inquiry_create

    key = uuid.uuid4()
    request = {
        "data": {
            "full_name": "Aigerim Bekova",
            "email": "aigerim@example.com",
            "contact_channel": "email",
            "country": "KZ",
            "language": "ru",
            "patient_relation": "self",
            "patient_age": 54,
            "symptom_duration": "1_5_years",
            "message": "Is a baclofen pump an option?",
        },
        "clinics": [],
        "uploads": [],
        "submission_key": key,
        "consent_text": "I agree.",
    }
    first, token = inquiry_create(**request)
    emails = len(mail.outbox)
    again, no_token = inquiry_create(**request)
    assert (again, no_token) == (first, None) and token
    assert Inquiry.objects.count() == 1
    assert len(mail.outbox) == emails  # nothing sent twice
