"""The admin's inquiry and email lists in a fixed number of queries however many rows, and the inquiry
search by reference, address or name."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinics.models import Clinic
from conditions.models import Condition
from inquiries.models import EmailKind, EmailStatus, Inquiry, OutgoingEmail
from staff.roles import COORDINATOR
from tests.support.staff import make_staff, signed_in

MAX_QUERIES = 10


def add_inquiries(count, *, start=0):
    """Inquiries with different conditions, coordinators and clinics, each with a sent email."""
    conditions = list(Condition.objects.all()[:5])
    clinics = list(Clinic.objects.all()[:5])
    coordinators = [make_staff(f"coordinator-{start}-{number}", COORDINATOR) for number in range(3)]
    now = timezone.now()
    inquiries = Inquiry.objects.bulk_create(
        Inquiry(
            full_name=f"Patient Number{number}",
            email=f"Patient{number}@Example.com",
            contact_channel="email",
            country="KZ",
            language="ru",
            patient_relation="self",
            patient_age=40,
            condition=conditions[number % len(conditions)],
            symptom_duration="1_5_years",
            message="Bench",
            consent_health_data_at=now,
            consent_health_data_text="consent",
            consent_health_data_version="1",
            follow_up_token_hash=uuid.uuid4().hex,
            submission_key=uuid.uuid4(),
            assigned_to=coordinators[number % len(coordinators)],
            search_text=f"patient number{number} patient{number}@example com",
        )
        for number in range(start, start + count)
    )
    Inquiry.preferred_clinics.through.objects.bulk_create(
        Inquiry.preferred_clinics.through(inquiry=inquiry, clinic=clinics[number % len(clinics)])
        for number, inquiry in enumerate(inquiries)
    )
    OutgoingEmail.objects.bulk_create(
        OutgoingEmail(
            inquiry=inquiry,
            kind=EmailKind.PATIENT_CONFIRMATION,
            to=inquiry.email,
            subject="Your request",
            status=EmailStatus.SENT,
        )
        for inquiry in inquiries
    )
    return inquiries


@pytest.fixture
def admin_client(db):
    user = get_user_model().objects.create_superuser("site-admin", "admin@clinicportal.example", "x" * 20)
    return signed_in(user)


def listed(client, path, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params or {})
    assert response.status_code == 200
    return list(response.context["cl"].result_list), len(queries)


@pytest.mark.parametrize(
    "path", ["/admin/inquiries/inquiry/", "/admin/inquiries/outgoingemail/"], ids=["inquiries", "emails"]
)
@pytest.mark.parametrize("params", [{}, {"status__exact": "sent"}], ids=["all", "filtered"])
def test_admin_lists_take_a_fixed_number_of_queries_however_many_rows(admin_client, demo, path, params):
    if "inquiry" in path and params:
        params = {"status__exact": "received"}
    add_inquiries(3)
    few, few_queries = listed(admin_client, path, params)
    add_inquiries(27, start=3)
    many, many_queries = listed(admin_client, path, params)

    assert (len(few), len(many)) == (3, 30)
    assert many_queries == few_queries <= MAX_QUERIES


def test_coordinator_sees_the_inquiry_list_in_a_fixed_number_of_queries(demo):
    coordinator = signed_in(make_staff("coordinator", COORDINATOR))
    add_inquiries(3)
    few, few_queries = listed(coordinator, "/admin/inquiries/inquiry/")
    add_inquiries(27, start=3)
    many, many_queries = listed(coordinator, "/admin/inquiries/inquiry/")

    assert (len(few), len(many)) == (3, 30)
    assert many_queries == few_queries <= MAX_QUERIES


def test_admin_search_finds_the_inquiry_by_reference_address_or_name(admin_client, demo):
    inquiries = add_inquiries(20)
    wanted = inquiries[7]
    searches = [
        wanted.reference,
        wanted.reference.lower(),
        f"  {wanted.reference}  ",
        "patient7@example.COM",
        "Patient Number7",
        "number7",
    ]

    for search in searches:
        found, queries = listed(admin_client, "/admin/inquiries/inquiry/", {"q": search})
        assert found == [wanted], search
        assert queries <= MAX_QUERIES


def test_admin_search_for_something_else_finds_nothing(admin_client, demo):
    add_inquiries(5)

    for search in ["CP-0000-0000", "nobody@example.com", "Nobody"]:
        found, _queries = listed(admin_client, "/admin/inquiries/inquiry/", {"q": search})
        assert found == [], search


def test_admin_inquiry_list_names_each_country(admin_client, demo):
    add_inquiries(3)

    html = admin_client.get("/admin/inquiries/inquiry/").content.decode()

    assert html.count('<td class="field-country_name">Kazakhstan</td>') == 3
