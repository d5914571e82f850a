"""Staff access fit for health data: roles, one scope rule, read-only patient data, the audit trail,
two-factor sign-in, throttling, session limits and re-confirmation."""

import base64
import time
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinics.models import Clinic
from inquiries.models import Attachment, Inquiry, InquiryStatus
from staff import sessions
from staff.models import AuditAction, AuditEntry, CoordinatorProfile
from staff.roles import COORDINATOR, COORDINATOR_LEAD
from tests.support.patients import pdf_bytes, submit, upload
from tests.support.staff import make_staff, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinics(request_choices):
    return (
        Clinic.objects.get(slug="hanbit-neuroscience-hospital"),
        Clinic.objects.get(slug="busan-haeundae-neuro-centre"),
    )


@pytest.fixture
def inquiries(client, clinics):
    clinic_a, clinic_b = clinics
    submit(
        client,
        email="anna@example.com",
        full_name="Anna Ivanova",
        preferred_clinics=[clinic_a.slug],
        files=[upload("mri.pdf", pdf_bytes())],
    )
    submit(
        client,
        email="bold@example.com",
        full_name="Bold Bat",
        preferred_clinics=[clinic_b.slug],
        language="mn",
    )
    mail.outbox.clear()
    return Inquiry.objects.get(email="anna@example.com"), Inquiry.objects.get(email="bold@example.com")


def actions(**filters):
    return list(AuditEntry.objects.filter(**filters).order_by("at", "id").values_list("action", flat=True))


# --- roles ---------------------------------------------------------------------------------------


def permissions_of(role):
    group = Group.objects.get(name=role)
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


def test_each_role_has_exactly_the_permissions_it_needs():
    coordinator = {
        "inquiries.view_inquiry",
        "inquiries.change_inquiry",
        "inquiries.download_attachment",
        "inquiries.correct_patient_email",
        "inquiries.view_attachment",
        "inquiries.view_timelineentry",
        "clinics.view_clinic",
        "conditions.view_condition",
        # sharing a case with clinics, revoking a link, publishing a clinic's answer
        "referrals.view_referral",
        "referrals.add_referral",
        "referrals.change_referral",
        "referrals.view_clinicanswer",
        "referrals.change_clinicanswer",
    }
    assert permissions_of(COORDINATOR) == coordinator
    assert permissions_of(COORDINATOR_LEAD) == coordinator | {
        "inquiries.view_all_inquiries",
        "inquiries.assign_inquiry",
        "inquiries.export_inquiry",
        "inquiries.erase_inquiry",
    }
    # Content: the condition pages and the travel guide.
    assert {p.split(".")[0] for p in permissions_of("Content editor")} == {"conditions", "travel"}
    # Publishing and vouching for translations (of conditions and of the guide) are the medical
    # reviewer's alone.
    sign_off = {"conditions.publish_condition", "conditions.review_translation", "travel.review_translation"}
    assert not sign_off & permissions_of("Content editor")
    assert sign_off <= permissions_of("Medical reviewer")
    assert {p.split(".")[0] for p in permissions_of("Medical reviewer")} == {"conditions", "travel"}
    assert not {p for p in permissions_of("Medical reviewer") if p.startswith("travel.change_travelguide")}
    assert {p for p in permissions_of("Clinic manager") if not p.startswith("clinics.")} == {
        "conditions.view_condition",
        "conditions.view_treatment",
        "conditions.view_specialty",
    }
    assert "staff.view_auditentry" in permissions_of("Admin")
    assert not any(p.startswith("staff.") for p in permissions_of(COORDINATOR_LEAD))


# --- one scope rule ------------------------------------------------------------------------------


def test_a_coordinator_limited_to_clinic_b_never_meets_clinic_a_s_inquiry(inquiries, clinics):
    inquiry_a, inquiry_b = inquiries
    limited = signed_in(make_staff("coord-b", COORDINATOR, clinics=[clinics[1]]))

    listing = unescape(limited.get("/admin/inquiries/inquiry/").content.decode())
    assert inquiry_b.reference in listing and inquiry_a.reference not in listing
    assert "1 inquiry" in listing  # the count, too
    for query in (inquiry_a.reference, "Anna", "anna@example.com"):
        found = unescape(limited.get("/admin/inquiries/inquiry/", {"q": query}).content.decode())
        assert f"/admin/inquiries/inquiry/{inquiry_a.pk}/change/" not in found
        assert "0 results" in found
    assert limited.get(f"/admin/inquiries/inquiry/{inquiry_a.pk}/change/").status_code == 404
    attachment = Attachment.objects.get(inquiry=inquiry_a)
    assert limited.get(f"/admin/inquiries/files/{attachment.pk}/").status_code == 404
    assert Inquiry.objects.visible_to(make_staff("c2", COORDINATOR, clinics=[clinics[1]])).count() == 1


def test_a_lead_exports_every_inquiry_without_health_data(inquiries):
    lead = signed_in(make_staff("lead", COORDINATOR_LEAD))
    response = lead.post(
        "/admin/inquiries/inquiry/",
        {"action": "export_csv", "_selected_action": [str(inquiry.pk) for inquiry in inquiries]},
    )
    assert response.status_code == 200
    csv = response.content.decode()
    assert all(inquiry.reference in csv for inquiry in inquiries)
    for private in ("Anna", "anna@example.com", "Baclofen", "ankle clonus"):
        assert private not in csv
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert sorted(entry.changes["references"]) == sorted(inquiry.reference for inquiry in inquiries)


def test_a_users_own_and_group_permissions_are_read_together_in_one_query():
    coordinator = make_staff("perms", COORDINATOR)
    coordinator.user_permissions.add(Permission.objects.get(codename="view_all_inquiries"))
    group_permissions = {
        f"{permission.content_type.app_label}.{permission.codename}"
        for permission in Permission.objects.filter(group__name=COORDINATOR)
    }
    fresh = get_user_model().objects.get(pk=coordinator.pk)
    with CaptureQueriesContext(connection) as queries:
        granted = fresh.get_all_permissions()
        assert fresh.has_perm("inquiries.view_all_inquiries")
        assert fresh.has_perm("inquiries.view_inquiry")
        assert not fresh.has_perm("clinics.delete_clinic")
    assert len(queries) == 1
    assert granted == group_permissions | {"inquiries.view_all_inquiries"}
    assert "inquiries.view_inquiry" in group_permissions
    coordinator.is_active = False
    coordinator.save()
    assert get_user_model().objects.get(pk=coordinator.pk).get_all_permissions() == set()
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "a-long-password")
    assert len(admin.get_all_permissions()) == Permission.objects.count()


def test_deactivation_or_a_removed_clinic_ends_access_on_the_next_request(inquiries, clinics):
    inquiry_a, _ = inquiries
    user = make_staff("coord-a", COORDINATOR, clinics=[clinics[0]])
    staff = signed_in(user)
    url = f"/admin/inquiries/inquiry/{inquiry_a.pk}/change/"
    assert staff.get(url).status_code == 200
    user.coordinator_profile.clinics.set([clinics[1]])
    assert staff.get(url).status_code == 404
    user.coordinator_profile.clinics.set([clinics[0]])
    assert staff.get(url).status_code == 200
    user.is_active = False
    user.save()
    assert staff.get(url).status_code == 302  # signed out: to the sign-in page


# --- the patient's words are read-only -----------------------------------------------------------


def test_staff_cannot_edit_what_the_patient_wrote_and_a_lead_assigns(inquiries):
    inquiry_a, _ = inquiries
    lead_user = make_staff("lead", COORDINATOR_LEAD)
    coordinator_user = make_staff("coord", COORDINATOR)
    lead = signed_in(lead_user)
    response = lead.post(
        f"/admin/inquiries/inquiry/{inquiry_a.pk}/change/",
        {
            "assigned_to": coordinator_user.pk,
            "email": "attacker@example.com",
            "diagnosis": "changed",
            "full_name": "Someone Else",
            "attachments-TOTAL_FORMS": "0",
            "attachments-INITIAL_FORMS": "1",
            "timeline-TOTAL_FORMS": "0",
            "timeline-INITIAL_FORMS": "1",
        },
    )
    assert response.status_code == 302
    inquiry_a.refresh_from_db()
    assert inquiry_a.assigned_to == coordinator_user
    assert (inquiry_a.email, inquiry_a.full_name) == ("anna@example.com", "Anna Ivanova")
    assert inquiry_a.diagnosis == "Multiple sclerosis since 2019"
    entry = AuditEntry.objects.get(action=AuditAction.ASSIGN)
    assert entry.changes == {"assigned_to": [None, "coord"]}
    assert entry.object_repr == inquiry_a.reference

    page = unescape(
        signed_in(coordinator_user).get(f"/admin/inquiries/inquiry/{inquiry_a.pk}/change/").content.decode()
    )
    assert 'name="assigned_to"' not in page  # only a lead assigns
    assert 'name="email"' not in page


def test_an_email_correction_is_audited_and_the_old_address_is_told(inquiries):
    inquiry_a, _ = inquiries
    staff = signed_in(make_staff("coord", COORDINATOR))
    refused = staff.post(
        f"/admin/inquiries/inquiry/{inquiry_a.pk}/correct-email/",
        {"email": "anna@example.com", "reason": "x"},
    )
    assert refused.status_code == 200
    assert "This is already the address of the request." in refused.content.decode()
    response = staff.post(
        f"/admin/inquiries/inquiry/{inquiry_a.pk}/correct-email/",
        {"email": "anna.new@example.com", "reason": "She wrote from her new address and asked."},
    )
    assert response.status_code == 302
    inquiry_a.refresh_from_db()
    assert inquiry_a.email == "anna.new@example.com"
    entry = AuditEntry.objects.get(action=AuditAction.EMAIL_CORRECTED)
    assert entry.username == "coord"
    assert entry.changes == {"email": ["anna@example.com", "anna.new@example.com"]}
    assert entry.note == "She wrote from her new address and asked."
    [notice] = mail.outbox
    assert notice.to == ["anna@example.com"]
    with translation.override("ru"):
        assert translation.gettext("Hello,") in notice.body
    assert "a***@example.com" in notice.body


def test_without_the_download_permission_no_route_leads_to_a_file(inquiries, client):
    inquiry_a, _ = inquiries
    attachment = Attachment.objects.get(inquiry=inquiry_a)
    changer = make_staff("changer")
    changer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_inquiry", "change_inquiry", "correct_patient_email"])
    )
    staff = signed_in(changer)
    assert staff.get(f"/admin/inquiries/files/{attachment.pk}/").status_code == 404
    # Redirecting the patient's email (then asking for a new link) is closed too.
    assert staff.get(f"/admin/inquiries/inquiry/{inquiry_a.pk}/correct-email/").status_code == 404
    assert (
        staff.post(
            f"/admin/inquiries/inquiry/{inquiry_a.pk}/correct-email/",
            {"email": "changer@example.com", "reason": "x"},
        ).status_code
        == 404
    )
    page = unescape(staff.get(f"/admin/inquiries/inquiry/{inquiry_a.pk}/change/").content.decode())
    assert 'name="email"' not in page
    client.post("/en/inquiries/lost-link/", {"email": "changer@example.com"})
    assert mail.outbox == []
    inquiry_a.refresh_from_db()
    assert inquiry_a.email == "anna@example.com"


# --- the audit trail -----------------------------------------------------------------------------


def test_views_downloads_status_moves_and_erasure_are_audited_without_health_data(inquiries):
    inquiry_a, _ = inquiries
    lead = signed_in(make_staff("lead", COORDINATOR_LEAD), client=Client(REMOTE_ADDR="203.0.113.9"))
    lead.get(f"/admin/inquiries/inquiry/{inquiry_a.pk}/change/")
    attachment = Attachment.objects.get(inquiry=inquiry_a)
    lead.get(f"/admin/inquiries/files/{attachment.pk}/")
    lead.post(
        f"/admin/inquiries/inquiry/{inquiry_a.pk}/respond/",
        {"status": InquiryStatus.IN_REVIEW, "message": "We read it.", "visibility": "public"},
    )
    lead.post(
        "/admin/inquiries/inquiry/",
        {"action": "erase_personal_data", "_selected_action": [str(inquiry_a.pk)]},
    )
    trail = AuditEntry.objects.filter(object_id=str(inquiry_a.pk)).order_by("at", "id")
    assert [entry.action for entry in trail] == [
        AuditAction.VIEW,
        AuditAction.DOWNLOAD,
        AuditAction.STATUS,
        AuditAction.MESSAGE,
        AuditAction.ERASE,
    ]
    assert {entry.ip_address for entry in trail} == {"203.0.113.9"}
    assert {entry.username for entry in trail} == {"lead"}
    assert trail.get(action=AuditAction.STATUS).changes == {"status": ["received", "in_review"]}
    text = " ".join(f"{e.object_repr} {e.changes} {e.note}" for e in AuditEntry.objects.all())
    for health_data in ("mri.pdf", "Multiple sclerosis", "Baclofen", "Anna", "We read it."):
        assert health_data not in text


def test_audit_entries_cannot_be_changed_or_deleted(inquiries):
    admin = make_staff("admin", "Admin")
    staff = signed_in(admin)
    entry = AuditEntry.objects.first()
    assert staff.get(f"/admin/staff/auditentry/{entry.pk}/change/").status_code == 200  # read-only page
    staff.post(f"/admin/staff/auditentry/{entry.pk}/change/", {"note": "edited"})
    assert staff.post(f"/admin/staff/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 404
    entry.refresh_from_db()
    assert entry.note == ""
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.update(note="x")
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()
    listing = staff.get("/admin/staff/auditentry/", {"action": AuditAction.SIGN_IN, "q": "admin"})
    assert listing.status_code == 200
    signed_in_rows = AuditEntry.objects.filter(action=AuditAction.SIGN_IN, username__contains="admin")
    assert f"/admin/staff/auditentry/{signed_in_rows.first().pk}/change/" in listing.content.decode()
    assert "1 audit entry" in listing.content.decode() or "1 result" in listing.content.decode()


def test_the_daily_command_prunes_audit_entries_past_their_retention(settings, inquiries):
    settings.AUDIT_RETENTION_DAYS = 30
    old = AuditEntry.objects.create(action=AuditAction.VIEW, at=timezone.now() - timezone.timedelta(days=31))
    recent = AuditEntry.objects.create(action=AuditAction.VIEW)
    call_command("purge_inquiries", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert not AuditEntry.objects.filter(pk=old.pk).exists()
    assert AuditEntry.objects.filter(pk=recent.pk).exists()


# --- two-factor sign-in --------------------------------------------------------------------------


def sign_in(client, username, password="a-long-staff-password"):  # noqa: S107
    return client.post("/staff/sign-in/", {"username": username, "password": password, "next": "/admin/"})


def test_first_sign_in_enrols_an_authenticator_and_nothing_else_is_reachable_before(db):
    make_staff("newcomer", COORDINATOR)
    client = Client()
    response = sign_in(client, "newcomer")
    assert response.status_code == 302 and response["Location"].startswith("/staff/two-factor/setup/")
    for url in ("/admin/", "/admin/inquiries/inquiry/"):
        blocked = client.get(url)
        assert blocked.status_code == 302 and blocked["Location"].startswith("/staff/two-factor/setup/")

    page = client.get("/staff/two-factor/setup/").content.decode()
    assert 'src="data:image/svg+xml;base64,' in page
    device = TOTPDevice.objects.get(user__username="newcomer", confirmed=False)
    secret = base64.b32encode(device.bin_key).decode()
    assert secret in page
    wrong = client.post("/staff/two-factor/setup/", {"token": "000000"})
    assert wrong.status_code == 400
    device.refresh_from_db()
    device.throttle_reset()  # as if the throttle's second had passed
    enrolled = client.post(
        "/staff/two-factor/setup/", {"token": f"{totp(device.bin_key):06d}", "next": "/admin/"}
    )
    assert enrolled.status_code == 200
    codes = StaticToken.objects.filter(device__user__username="newcomer").values_list("token", flat=True)
    assert len(codes) == 10 and all(code in enrolled.content.decode() for code in codes)
    assert client.get("/admin/").status_code == 200
    assert AuditAction.DEVICE_ENROLLED in actions(username="newcomer")


def test_later_sign_ins_need_a_code_and_a_backup_code_works_once(db):
    user = make_staff("regular", COORDINATOR)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    backup = user.staticdevice_set.create(name="backup")
    backup.token_set.create(token="a1b2c3d4")

    client = Client()
    assert sign_in(client, "regular")["Location"].startswith("/staff/two-factor/?")
    assert client.get("/admin/").status_code == 302
    assert client.post("/staff/two-factor/", {"token": "123456"}).status_code == 400
    for device in (*user.totpdevice_set.all(), *user.staticdevice_set.all()):
        device.throttle_reset()  # as if the throttle's second had passed
    assert client.post("/staff/two-factor/", {"token": "a1b2c3d4", "next": "/admin/"}).status_code == 302
    assert client.get("/admin/").status_code == 200

    again = Client()
    sign_in(again, "regular")
    assert again.post("/staff/two-factor/", {"token": "a1b2c3d4"}).status_code == 400  # used up
    assert actions(username="regular")[:3] == [
        AuditAction.SIGN_IN,
        AuditAction.SECOND_FACTOR_FAILED,
        AuditAction.SECOND_FACTOR,
    ]


def test_repeated_wrong_passwords_lock_the_account_with_a_translated_page(db, settings):
    make_staff("target", COORDINATOR)
    client = Client(HTTP_ACCEPT_LANGUAGE="ko")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "target", "wrong-password").status_code == 400
    locked = sign_in(client, "target", "wrong-password")
    assert locked.status_code == 429
    with translation.override("ko"):
        assert translation.gettext("Too many failed sign-ins") in locked.content.decode()
    assert sign_in(client, "target").status_code == 429  # even the right password, while locked
    assert actions(username="target").count(AuditAction.SIGN_IN_FAILED) >= settings.AXES_FAILURE_LIMIT
    assert AuditAction.LOCKED_OUT in actions(username="target")


def test_a_non_staff_account_gets_no_further_than_the_sign_in_page(db):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("patient", "p@example.com", "a-long-staff-password")
    response = sign_in(Client(), "patient")
    assert response.status_code == 400
    assert "This account has no access to the staff area." in response.content.decode()


def test_sign_out_is_audited(db):
    user = make_staff("leaving", COORDINATOR)
    client = signed_in(user)
    assert client.post("/staff/sign-out/").status_code == 302
    assert client.get("/admin/").status_code == 302
    assert actions(username="leaving")[-1] == AuditAction.SIGN_OUT


# --- session limits and re-confirmation ------------------------------------------------------------


@pytest.mark.parametrize(
    ("started_ago", "seen_ago"),
    [(60, 31 * 60), (10 * 3600 + 60, 60)],
    ids=["idle for 31 minutes", "signed in 10 hours ago"],
)
def test_staff_sessions_end_when_idle_or_too_old(db, started_ago, seen_ago):
    user = make_staff("sleepy", COORDINATOR)
    client = signed_in(user)
    assert client.get("/admin/").status_code == 200
    session = client.session
    session[sessions.STARTED_AT] = time.time() - started_ago
    session[sessions.LAST_SEEN_AT] = time.time() - seen_ago
    session.save()
    response = client.get("/admin/inquiries/inquiry/")
    assert response.status_code == 302 and response["Location"].startswith("/staff/sign-in/")
    assert client.get("/admin/").status_code == 302
    assert AuditAction.SESSION_EXPIRED in actions(username="sleepy")


def test_downloading_records_and_erasing_ask_for_the_password_again_after_15_minutes(inquiries):
    inquiry_a, _ = inquiries
    attachment = Attachment.objects.get(inquiry=inquiry_a)
    lead = signed_in(make_staff("lead", COORDINATOR_LEAD), identity_confirmed=False)
    download = lead.get(f"/admin/inquiries/files/{attachment.pk}/")
    assert download.status_code == 302 and download["Location"].startswith("/staff/confirm/")
    erase = lead.post(
        "/admin/inquiries/inquiry/",
        {"action": "erase_personal_data", "_selected_action": [str(inquiry_a.pk)]},
    )
    assert erase.status_code == 302 and erase["Location"].startswith("/staff/confirm/")
    inquiry_a.refresh_from_db()
    assert inquiry_a.anonymised_at is None

    assert lead.post("/staff/confirm/", {"secret": "not-my-password"}).status_code == 400
    confirmed = lead.post(
        "/staff/confirm/",
        {"secret": "a-long-staff-password", "next": f"/admin/inquiries/files/{attachment.pk}/"},
    )
    assert confirmed["Location"] == f"/admin/inquiries/files/{attachment.pk}/"
    assert lead.get(confirmed["Location"]).status_code == 200
    assert AuditAction.REAUTHENTICATED in actions(username="lead")


def test_the_confirmation_page_never_sends_anyone_to_another_site(db):
    lead = signed_in(make_staff("lead", COORDINATOR_LEAD))
    response = lead.post(
        "/staff/confirm/", {"secret": "a-long-staff-password", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/admin/"


# --- the command for the demo and tests ----------------------------------------------------------


def test_create_coordinator_makes_a_coordinator_with_a_profile(clinics):
    call_command(
        "create_coordinator",
        "dolgor",
        email="dolgor@clinicportal.example",
        password="a-long-staff-password",
        languages="mn,ru",
        clinics=clinics[0].slug,
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )
    profile = CoordinatorProfile.objects.get(user__username="dolgor")
    assert profile.languages == ["mn", "ru"]
    assert list(profile.clinics.all()) == [clinics[0]]
    assert profile.user.is_staff and list(profile.user.groups.values_list("name", flat=True)) == [COORDINATOR]


def test_an_admin_filters_the_trail_by_inquiry(inquiries):
    inquiry_a, inquiry_b = inquiries
    admin = signed_in(make_staff("admin", "Admin"))
    page = admin.get(f"/admin/inquiries/inquiry/{inquiry_a.pk}/change/").content.decode()
    assert f"/admin/staff/auditentry/?object_id={inquiry_a.pk}" in page
    admin.get(f"/admin/inquiries/inquiry/{inquiry_b.pk}/change/")
    trail = unescape(admin.get("/admin/staff/auditentry/", {"object_id": str(inquiry_a.pk)}).content.decode())
    assert inquiry_a.reference in trail
    assert inquiry_b.reference not in trail


def test_correcting_an_email_asks_for_a_recent_confirmation(inquiries):
    inquiry_a, _ = inquiries
    staff = signed_in(make_staff("coord", COORDINATOR), identity_confirmed=False)
    url = f"/admin/inquiries/inquiry/{inquiry_a.pk}/correct-email/"
    response = staff.post(url, {"email": "attacker@example.com", "reason": "x"})
    assert response.status_code == 302 and response["Location"].startswith("/staff/confirm/")
    inquiry_a.refresh_from_db()
    assert inquiry_a.email == "anna@example.com"


def test_a_view_by_an_alternative_spelling_of_the_id_is_audited_under_the_inquiry(inquiries):
    inquiry_a, _ = inquiries
    staff = signed_in(make_staff("coord", COORDINATOR))
    assert staff.get(f"/admin/inquiries/inquiry/urn_3Auuid_3A{inquiry_a.pk}/change/").status_code == 200
    entry = AuditEntry.objects.get(action=AuditAction.VIEW)
    assert (entry.object_id, entry.object_repr) == (str(inquiry_a.pk), inquiry_a.reference)


def test_signing_in_again_needs_the_second_factor_again(db):
    user = make_staff("lead", COORDINATOR_LEAD)
    staff = signed_in(user)
    assert staff.get("/admin/").status_code == 200
    sign_in(staff, "lead")
    response = staff.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/staff/two-factor/")


def test_confirming_with_a_code_is_no_failed_sign_in_and_wrong_answers_end_the_session(db, settings):
    user = make_staff("lead", COORDINATOR_LEAD)
    staff = signed_in(user, identity_confirmed=False)
    device = TOTPDevice.objects.get(user=user)
    assert staff.post("/staff/confirm/", {"secret": f"{totp(device.bin_key):06d}"}).status_code == 302
    assert AuditAction.SIGN_IN_FAILED not in actions(username="lead")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert staff.post("/staff/confirm/", {"secret": "wrong"}).status_code == 400
    ended = staff.post("/staff/confirm/", {"secret": "wrong"})
    assert ended.status_code == 302 and ended["Location"] == "/staff/sign-in/"
    assert staff.get("/admin/").status_code == 302
    assert actions(username="lead").count(AuditAction.REAUTHENTICATION_FAILED) == settings.AXES_FAILURE_LIMIT


def test_wrong_second_factor_codes_are_audited(db):
    user = make_staff("regular", COORDINATOR)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client()
    sign_in(client, "regular")
    client.post("/staff/two-factor/", {"token": "123456"})
    assert AuditAction.SECOND_FACTOR_FAILED in actions(username="regular")


def test_view_on_site_says_nothing_about_inquiries(inquiries):
    from django.contrib.contenttypes.models import ContentType

    inquiry_a, _ = inquiries
    staff = signed_in(make_staff("coord-b", COORDINATOR))
    inquiry_type = ContentType.objects.get_for_model(Inquiry).pk
    existing = staff.get(f"/admin/r/{inquiry_type}/{inquiry_a.pk}/")
    missing = staff.get(f"/admin/r/{inquiry_type}/00000000-0000-4000-8000-000000000000/")
    assert existing.status_code == missing.status_code == 404
    assert existing.content.decode().replace(str(inquiry_a.pk), "ID") == missing.content.decode().replace(
        "00000000-0000-4000-8000-000000000000", "ID"
    )
