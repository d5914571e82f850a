"""Clinic upkeep for the clinic manager: accreditations lapsing within 90 days and registrations not
verified within a year, as querysets, as a filter of the clinic list and as a panel on the admin's
front page; an accreditation that has lapsed stays off the public pages."""

import datetime
import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from clinics.models import Accreditation, Clinic
from staff.roles import ADMIN, CLINIC_MANAGER, CONTENT_EDITOR, COORDINATOR
from tests.factories import make_clinic
from tests.support.staff import make_staff, signed_in

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 1)


def days(number, since=TODAY):
    return since + datetime.timedelta(days=number)


def accredited(name, valid_until, **fields):
    fields.setdefault("registration_verified_on", TODAY)
    clinic = make_clinic(name_en=name, **fields)
    Accreditation.objects.create(clinic=clinic, kind="jci", valid_until=valid_until)
    return clinic


def card_slugs(html):
    return re.findall(r'data-clinic="([^"]+)"', html)


def names(queryset):
    return sorted(clinic.name_en for clinic in queryset)


def test_accreditations_expiring_are_those_lapsing_within_90_days():
    clinic = make_clinic()
    for until in (days(-1), TODAY, days(90), days(91), None):
        Accreditation.objects.create(clinic=clinic, kind="jci", valid_until=until)

    expiring = Accreditation.objects.expiring(TODAY)

    assert sorted(accreditation.valid_until for accreditation in expiring) == [TODAY, days(90)]


def test_clinics_with_accreditation_expiring_listed_once():
    accredited("Lapsed", days(-1))
    accredited("Last day", TODAY)
    soon = accredited("In 90 days", days(90))
    Accreditation.objects.create(clinic=soon, kind="koiha", valid_until=days(30))
    accredited("In 91 days", days(91))

    assert names(Clinic.objects.accreditation_expiring(TODAY)) == ["In 90 days", "Last day"]


def test_clinics_with_registration_unverified_this_year():
    make_clinic(name_en="Checked a year ago", registration_verified_on=days(-365))
    make_clinic(name_en="Checked a year and a day ago", registration_verified_on=days(-366))
    make_clinic(name_en="Never checked, published", registration_verified_on=None)
    make_clinic(name_en="Never checked, unpublished", registration_verified_on=None, is_published=False)
    make_clinic(name_en="Long ago, unpublished", registration_verified_on=days(-400), is_published=False)

    assert names(Clinic.objects.registration_unverified(TODAY)) == [
        "Checked a year and a day ago",
        "Long ago, unpublished",
        "Never checked, published",
    ]


@pytest.fixture
def upkeep_clinics():
    """One clinic for each list and one in order (relative to the real today: the admin's lists)."""
    today = timezone.localdate()
    return {
        "expiring": accredited("Accreditation soon over", days(30, today), registration_verified_on=today),
        "unverified": make_clinic(
            name_en="Registration unchecked", registration_verified_on=days(-400, today)
        ),
        "in order": accredited("In order", days(400, today), registration_verified_on=today),
    }


def manager_client():
    return signed_in(make_staff("clinics", CLINIC_MANAGER))


def changelist_names(client, upkeep):
    response = client.get("/admin/clinics/clinic/", {"upkeep": upkeep})
    assert response.status_code == 200
    return names(response.context["cl"].result_list)


def test_clinic_list_filters_accreditation_expiring(upkeep_clinics):
    assert changelist_names(manager_client(), "accreditation-expiring") == ["Accreditation soon over"]


def test_clinic_list_filters_registration_unverified(upkeep_clinics):
    assert changelist_names(manager_client(), "registration-unverified") == ["Registration unchecked"]


def test_clinic_list_offers_the_upkeep_filters_as_links(upkeep_clinics):
    html = manager_client().get("/admin/clinics/clinic/").content.decode()

    assert '<a href="?upkeep=accreditation-expiring">Accreditation expiring within 90 days</a>' in html
    assert '<a href="?upkeep=registration-unverified">Registration not verified this year</a>' in html


def upkeep_panel(html):
    return html.split('<div class="module upkeep-panel">')[1].split("</div>")[0]


def test_front_page_shows_the_clinic_manager_the_upkeep_counts_and_links(upkeep_clinics):
    make_clinic(name_en="Also unchecked", registration_verified_on=None)

    panel = " ".join(upkeep_panel(manager_client().get("/admin/").content.decode()).split())

    assert "<h2>Clinic upkeep</h2>" in panel
    assert (
        '<th scope="row"><a href="/admin/clinics/clinic/?upkeep=accreditation-expiring">'
        "Accreditation expiring within 90 days</a></th> <td>1</td>"
    ) in panel
    assert (
        '<th scope="row"><a href="/admin/clinics/clinic/?upkeep=registration-unverified">'
        "Registration not verified this year</a></th> <td>2</td>"
    ) in panel


def test_front_page_upkeep_panel_in_korean(upkeep_clinics):
    client = manager_client()
    client.cookies["django_language"] = "ko"

    html = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()

    assert "의료기관 관리 점검" in upkeep_panel(html)


@pytest.mark.parametrize(("role", "sees"), [(ADMIN, True), (CLINIC_MANAGER, True), (CONTENT_EDITOR, False)])
def test_front_page_upkeep_panel_only_for_who_may_change_clinics(upkeep_clinics, role, sees):
    client = signed_in(make_staff("someone", role))

    html = client.get("/admin/").content.decode()

    assert ("upkeep-panel" in html) is sees


def test_front_page_upkeep_panel_not_for_a_coordinator(upkeep_clinics):
    client = signed_in(
        make_staff("coord", COORDINATOR, clinics=[upkeep_clinics["expiring"]], languages=["ru"])
    )

    html = client.get("/admin/").content.decode()

    assert client.get("/admin/").status_code == 200
    assert "upkeep-panel" not in html


def test_front_page_upkeep_panel_for_a_superuser(upkeep_clinics):
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "a-long-admin-password")

    html = signed_in(admin).get("/admin/").content.decode()

    assert "Clinic upkeep" in upkeep_panel(html)


def test_lapsed_accreditation_stays_off_public_pages_while_an_expiring_one_shows(client):
    today = timezone.localdate()
    clinic = make_clinic(name_en="Badges", registration_verified_on=today)
    Accreditation.objects.create(clinic=clinic, kind="jci", valid_until=days(-1, today))
    Accreditation.objects.create(clinic=clinic, kind="koiha", valid_until=days(10, today))

    html = unescape(client.get(f"/en/clinics/{clinic.slug}/").content.decode())
    accreditations = html.split('id="accreditations-heading"')[1].split("</section>")[0]

    assert "KOIHA national accreditation" in accreditations
    assert "JCI accreditation" not in accreditations
    assert clinic.slug in card_slugs(client.get("/en/clinics/", {"accreditation": "koiha"}).content.decode())
    assert clinic.slug not in card_slugs(
        client.get("/en/clinics/", {"accreditation": "jci"}).content.decode()
    )
