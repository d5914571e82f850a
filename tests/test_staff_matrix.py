"""Who may open which staff page: every staff URL and every kind of user → the status code expected.

Out of reach answers 404 (never 403: that would confirm the object exists); a visitor who is not
signed in as staff is sent to the sign-in page (302). A meta-test fails when a URL pattern under the
staff areas is missing here.
"""

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tasks_db.models import DBTaskResult

from clinics.models import Clinic
from conditions.models import Condition, ConditionStatus, Specialty, Treatment
from inquiries.models import Attachment, Inquiry, OutgoingEmail
from staff.models import AuditEntry
from staff.roles import (
    ADMIN,
    CLINIC_MANAGER,
    CONTENT_EDITOR,
    COORDINATOR,
    COORDINATOR_LEAD,
    MEDICAL_REVIEWER,
)
from tests.factories import make_condition
from tests.support.patients import follow_up_url_from, pdf_bytes, submit, upload
from tests.support.staff import make_staff, signed_in
from travel.models import TravelGuide

pytestmark = pytest.mark.django_db

OUTSIDERS = ["anonymous", "patient", "deactivated"]
STAFF = [
    "coordinator_a",
    "coordinator_b",
    "unlimited",
    "lead",
    "content_editor",
    "medical_reviewer",
    "clinic_manager",
    "admin",
]
USERS = OUTSIDERS + STAFF
COORDINATORS = ["coordinator_a", "coordinator_b", "unlimited", "lead"]


@pytest.fixture
def world(client, demo, settings):
    """Two inquiries (one naming clinic A, one clinic B), a file, and one user of every kind."""
    from django.core import mail

    clinic_a = Clinic.objects.get(slug="hanbit-neuroscience-hospital")
    clinic_b = Clinic.objects.get(slug="busan-haeundae-neuro-centre")
    submit(
        client, email="a@example.com", preferred_clinics=[clinic_a.slug], files=[upload("a.pdf", pdf_bytes())]
    )
    submit(client, email="b@example.com", preferred_clinics=[clinic_b.slug])
    inquiry_a = Inquiry.objects.get(email="a@example.com")
    inquiry_b = Inquiry.objects.get(email="b@example.com")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from inquiries.tasks import send_outgoing_email

    send_outgoing_email.enqueue(email_id=OutgoingEmail.objects.first().pk)

    users = {
        "coordinator_a": make_staff("coord-a", COORDINATOR, clinics=[clinic_a], languages=["ru"]),
        "coordinator_b": make_staff("coord-b", COORDINATOR, clinics=[clinic_b], languages=["mn"]),
        "unlimited": make_staff("coord-all", COORDINATOR, languages=["ko"]),
        "lead": make_staff("lead", COORDINATOR_LEAD),
        "content_editor": make_staff("editor", CONTENT_EDITOR),
        "medical_reviewer": make_staff("reviewer", MEDICAL_REVIEWER),
        "clinic_manager": make_staff("clinics", CLINIC_MANAGER),
        "admin": make_staff("admin", ADMIN),
        "deactivated": make_staff("gone", COORDINATOR_LEAD),
    }
    clients = {"anonymous": Client()}
    # A failed sign-in leaves an attempt and a failure record (django-axes) to look at.
    clients["anonymous"].post("/staff/sign-in/", {"username": "lead", "password": "wrong"})
    for name, user in users.items():
        clients[name] = signed_in(user)
    users["deactivated"].is_active = False
    users["deactivated"].save()
    patient = Client()
    [confirmation] = [email for email in mail.outbox if email.to == ["a@example.com"]]
    assert patient.get(follow_up_url_from(confirmation).split("8000", 1)[1]).status_code == 200
    clients["patient"] = patient

    first_user = get_user_model().objects.order_by("pk").first()
    return {
        "clients": clients,
        "objects": {
            "reference_a": inquiry_a.reference,
            "reference_b": inquiry_b.reference,
            "inquiry_a": inquiry_a.pk,
            "inquiry_b": inquiry_b.pk,
            "attachment_a": Attachment.objects.get(inquiry=inquiry_a).pk,
            "email": OutgoingEmail.objects.first().pk,
            "audit": AuditEntry.objects.first().pk,
            "user": first_user.pk,
            "group": Group.objects.first().pk,
            "clinic": clinic_a.pk,
            "condition": Condition.objects.get(slug="clonus").pk,
            "condition_in_review": make_condition(slug="in-review", status=ConditionStatus.IN_REVIEW).pk,
            "treatment": Treatment.objects.first().pk,
            "specialty": Specialty.objects.first().pk,
            "travel_guide": TravelGuide.objects.create(title_en="Plan your trip", summary_en="Visas.").pk,
            "totp": TOTPDevice.objects.first().pk,
            "static": StaticDevice.objects.create(user=first_user, name="backup").pk,
            "task": DBTaskResult.objects.first().pk,
            "referral_a": _shared(inquiry_a, clinic_a).pk,
            "referral_b": _shared(inquiry_b, clinic_b).pk,
        },
    }


def _shared(inquiry, clinic):
    from datetime import timedelta

    from django.utils import timezone

    from referrals.models import Referral
    from referrals.services import new_link_token

    _token, token_hash = new_link_token()
    return Referral.objects.create(
        inquiry=inquiry,
        clinic=clinic,
        token_hash=token_hash,
        language="ko",
        expires_at=timezone.now() + timedelta(days=14),
    )


def codes(default=404, **by_user):
    """Expected codes for the staff users: ``default`` unless named; outsiders go to sign-in."""
    return {**dict.fromkeys(OUTSIDERS, 302), **dict.fromkeys(STAFF, default), **by_user}


EVERY_STAFF = codes(200)
ADMIN_ONLY = codes(admin=200)
CONTENT = codes(content_editor=200, admin=200)
CLINICS = codes(clinic_manager=200, admin=200)
CLINIC_VIEWERS = codes(clinic_manager=200, admin=200, **dict.fromkeys(COORDINATORS, 200))
CONDITION_VIEWERS = codes(
    content_editor=200,
    medical_reviewer=200,
    clinic_manager=200,
    admin=200,
    **dict.fromkeys(COORDINATORS, 200),
)
# Those who read the medical knowledge: content editors, medical reviewers, clinic managers.
CONTENT_AND_CLINIC_MANAGER = codes(content_editor=200, medical_reviewer=200, clinic_manager=200, admin=200)
CONTENT_READERS = codes(content_editor=200, medical_reviewer=200, admin=200)
MEDICAL_SIGN_OFF = codes(medical_reviewer=200, admin=200)
INQUIRY_A = codes(coordinator_a=200, unlimited=200, lead=200, admin=200)
INQUIRY_B = codes(coordinator_b=200, unlimited=200, lead=200, admin=200)
ALL_INQUIRIES = codes(200, content_editor=404, medical_reviewer=404, clinic_manager=404)


def model_pages(app_model, key, *, view, add, delete):
    """The five pages of a registered model: list, add, change, history, delete."""
    base = f"/admin/{app_model}/"
    return [
        (f"{app_model} list", lambda o: base, view),
        (f"{app_model} add", lambda o: base + "add/", add),
        (f"{app_model} change", lambda o: f"{base}{o[key]}/change/", view),
        (f"{app_model} history", lambda o: f"{base}{o[key]}/history/", view),
        (f"{app_model} delete", lambda o: f"{base}{o[key]}/delete/", delete),
        (f"{app_model} object", lambda o: f"{base}{o[key]}/", REDIRECT),
    ]


def changes_pages(app_model, key, *, view, change):
    """An object's Changes page (for who may view it) and its restore button (GET: 405 for who may
    change it)."""
    base = f"/admin/{app_model}/"
    return [
        (f"{app_model} changes", lambda o: f"{base}{o[key]}/changes/", view),
        (
            f"{app_model} changes restore (GET)",
            lambda o: f"{base}{o[key]}/changes/restore/",
            {**change, **{u: 405 for u, code in change.items() if code == 200}},
        ),
    ]


NOTHING = codes()
REDIRECT = codes(302, **dict.fromkeys(STAFF, 302))  # "<id>/" only redirects to "<id>/change/"
CASES = [
    # the staff sign-in pages
    ("sign-in", lambda o: "/staff/sign-in/", {**dict.fromkeys(USERS, 200)}),
    ("second factor", lambda o: "/staff/two-factor/", codes(200)),
    ("enrolment", lambda o: "/staff/two-factor/setup/", REDIRECT),
    (
        "confirm identity",
        lambda o: "/staff/confirm/",
        codes(200, anonymous=302, patient=302, deactivated=302),
    ),
    ("sign-out (GET)", lambda o: "/staff/sign-out/", dict.fromkeys(USERS, 405)),
    # the admin's own pages
    ("admin index", lambda o: "/admin/", EVERY_STAFF),
    ("admin login", lambda o: "/admin/login/", dict.fromkeys(USERS, 302)),
    ("admin logout (GET)", lambda o: "/admin/logout/", codes(405, **dict.fromkeys(OUTSIDERS, 302))),
    ("password change", lambda o: "/admin/password_change/", EVERY_STAFF),
    ("password changed", lambda o: "/admin/password_change/done/", EVERY_STAFF),
    ("a user's password", lambda o: f"/admin/auth/user/{o['user']}/password/", ADMIN_ONLY),
    (
        "authenticator set-up of a device",
        lambda o: f"/admin/otp_totp/totpdevice/{o['totp']}/config/",
        ADMIN_ONLY,
    ),
    ("QR code of a device", lambda o: f"/admin/otp_totp/totpdevice/{o['totp']}/qrcode/", ADMIN_ONLY),
    ("admin translations", lambda o: "/admin/jsi18n/", EVERY_STAFF),
    ("autocomplete without a field", lambda o: "/admin/autocomplete/", codes()),
    (
        "view on site",
        lambda o: f"/admin/r/{o['clinic_type']}/{o['clinic']}/",
        REDIRECT,
    ),
    ("unknown admin page", lambda o: "/admin/no-such-page/", codes()),
    # the translations' status: for those who write or check content, or manage clinics (their kinds only)
    ("translation status", lambda o: "/admin/translations/", CONTENT_AND_CLINIC_MANAGER),
    ("translation status of clinics", lambda o: "/admin/translations/?kind=clinics", CLINICS),
    ("translation status of conditions", lambda o: "/admin/translations/?kind=conditions", CONTENT_READERS),
    ("app: conditions", lambda o: "/admin/conditions/", CONDITION_VIEWERS),
    ("app: clinics", lambda o: "/admin/clinics/", CLINIC_VIEWERS),
    ("app: inquiries", lambda o: "/admin/inquiries/", ALL_INQUIRIES),
    ("app: staff", lambda o: "/admin/staff/", ADMIN_ONLY),
    ("app: auth", lambda o: "/admin/auth/", ADMIN_ONLY),
    ("app: axes", lambda o: "/admin/axes/", ADMIN_ONLY),
    ("app: otp_totp", lambda o: "/admin/otp_totp/", ADMIN_ONLY),
    ("app: otp_static", lambda o: "/admin/otp_static/", ADMIN_ONLY),
    ("app: tasks", lambda o: "/admin/django_tasks_database/", ADMIN_ONLY),
    # inquiries: the scope rule
    ("inquiry list", lambda o: "/admin/inquiries/inquiry/", ALL_INQUIRIES),
    ("inquiry add", lambda o: "/admin/inquiries/inquiry/add/", NOTHING),
    ("inquiry A", lambda o: f"/admin/inquiries/inquiry/{o['inquiry_a']}/change/", INQUIRY_A),
    ("inquiry B", lambda o: f"/admin/inquiries/inquiry/{o['inquiry_b']}/change/", INQUIRY_B),
    (
        "inquiry A object",
        lambda o: f"/admin/inquiries/inquiry/{o['inquiry_a']}/",
        REDIRECT,
    ),
    ("inquiry A history", lambda o: f"/admin/inquiries/inquiry/{o['inquiry_a']}/history/", INQUIRY_A),
    ("inquiry A delete", lambda o: f"/admin/inquiries/inquiry/{o['inquiry_a']}/delete/", NOTHING),
    ("inquiry A respond", lambda o: f"/admin/inquiries/inquiry/{o['inquiry_a']}/respond/", INQUIRY_A),
    ("inquiry B respond", lambda o: f"/admin/inquiries/inquiry/{o['inquiry_b']}/respond/", INQUIRY_B),
    ("inquiry A email", lambda o: f"/admin/inquiries/inquiry/{o['inquiry_a']}/correct-email/", INQUIRY_A),
    ("file of inquiry A", lambda o: f"/admin/inquiries/files/{o['attachment_a']}/", INQUIRY_A),
    *model_pages("inquiries/outgoingemail", "email", view=ADMIN_ONLY, add=NOTHING, delete=ADMIN_ONLY),
    # the audit trail: admins read it, nobody edits it
    *model_pages("staff/auditentry", "audit", view=ADMIN_ONLY, add=NOTHING, delete=NOTHING),
    # content
    *model_pages("conditions/condition", "condition", view=CONDITION_VIEWERS, add=CONTENT, delete=CONTENT),
    # a condition's list entries, one section per page: only for those who edit content
    (
        "entries of a condition's section",
        lambda o: f"/admin/conditions/condition/{o['condition']}/items/symptom/",
        CONTENT_READERS,
    ),
    # the editorial workflow: publishing and checking translations are the medical reviewer's
    (
        "publish a condition in review",
        lambda o: f"/admin/conditions/condition/{o['condition_in_review']}/publish/",
        MEDICAL_SIGN_OFF,
    ),
    (
        "publish a published condition",
        lambda o: f"/admin/conditions/condition/{o['condition']}/publish/",
        NOTHING,
    ),
    (
        "workflow action (GET)",
        lambda o: f"/admin/conditions/condition/{o['condition_in_review']}/workflow/withdraw/",
        NOTHING,
    ),
    (
        "check a translation",
        lambda o: f"/admin/conditions/condition/{o['condition']}/translations/ko/",
        MEDICAL_SIGN_OFF,
    ),
    (
        "check the English",
        lambda o: f"/admin/conditions/condition/{o['condition']}/translations/en/",
        NOTHING,
    ),
    (
        "entries of an unknown section",
        lambda o: f"/admin/conditions/condition/{o['condition']}/items/no_such_section/",
        NOTHING,
    ),
    (
        "entries of a missing condition",
        lambda o: "/admin/conditions/condition/999999/items/symptom/",
        NOTHING,
    ),
    *model_pages(
        "conditions/treatment", "treatment", view=CONTENT_AND_CLINIC_MANAGER, add=CONTENT, delete=CONTENT
    ),
    *model_pages(
        "conditions/specialty", "specialty", view=CONTENT_AND_CLINIC_MANAGER, add=CONTENT, delete=CONTENT
    ),
    *model_pages("clinics/clinic", "clinic", view=CLINIC_VIEWERS, add=CLINICS, delete=CLINICS),
    # the travel guide: edited by content editors, its translations checked by medical reviewers
    ("app: travel", lambda o: "/admin/travel/", CONTENT_READERS),
    *model_pages("travel/travelguide", "travel_guide", view=CONTENT_READERS, add=CONTENT, delete=CONTENT),
    (
        "check a translation of the travel guide",
        lambda o: f"/admin/travel/travelguide/{o['travel_guide']}/translations/ko/",
        MEDICAL_SIGN_OFF,
    ),
    (
        "check the English of the travel guide",
        lambda o: f"/admin/travel/travelguide/{o['travel_guide']}/translations/en/",
        NOTHING,
    ),
    # clinics in bulk: importing takes adding and changing clinics, exporting viewing them
    ("clinic import", lambda o: "/admin/clinics/clinic/import/", CLINICS),
    (
        "clinic import confirmation (GET)",
        lambda o: "/admin/clinics/clinic/process_import/",
        codes(clinic_manager=405, admin=405),
    ),
    ("clinic export", lambda o: "/admin/clinics/clinic/export/", CLINIC_VIEWERS),
    # the recorded changes of content, and the button restoring an earlier value
    *changes_pages("conditions/condition", "condition", view=CONDITION_VIEWERS, change=CONTENT),
    *changes_pages("conditions/treatment", "treatment", view=CONTENT_AND_CLINIC_MANAGER, change=CONTENT),
    *changes_pages("conditions/specialty", "specialty", view=CONTENT_AND_CLINIC_MANAGER, change=CONTENT),
    *changes_pages("clinics/clinic", "clinic", view=CLINIC_VIEWERS, change=CLINICS),
    ("changes of a missing object", lambda o: "/admin/conditions/condition/999999/changes/", codes()),
    # users, devices, sign-in records, tasks: admins only
    *model_pages("auth/user", "user", view=ADMIN_ONLY, add=ADMIN_ONLY, delete=ADMIN_ONLY),
    *model_pages("auth/group", "group", view=ADMIN_ONLY, add=ADMIN_ONLY, delete=ADMIN_ONLY),
    *model_pages("otp_totp/totpdevice", "totp", view=ADMIN_ONLY, add=ADMIN_ONLY, delete=ADMIN_ONLY),
    *model_pages("otp_static/staticdevice", "static", view=ADMIN_ONLY, add=ADMIN_ONLY, delete=ADMIN_ONLY),
    *model_pages("django_tasks_database/dbtaskresult", "task", view=ADMIN_ONLY, add=NOTHING, delete=NOTHING),
    *model_pages("axes/accessattempt", "attempt", view=ADMIN_ONLY, add=NOTHING, delete=ADMIN_ONLY),
    *model_pages("axes/accesslog", "access_log", view=ADMIN_ONLY, add=NOTHING, delete=ADMIN_ONLY),
    *model_pages("axes/accessfailurelog", "failure", view=ADMIN_ONLY, add=NOTHING, delete=ADMIN_ONLY),
    ("missing object", lambda o: "/admin/conditions/condition/999999/change/", codes()),
]

WORKSPACE_STAFF = codes(200, content_editor=404, medical_reviewer=404, clinic_manager=404)
for reference_key, reach in (("reference_a", INQUIRY_A), ("reference_b", INQUIRY_B)):
    CASES += [
        (f"workspace {reference_key}", lambda o, k=reference_key: f"/workspace/{o[k]}/", reach),
        *(
            (
                f"workspace {action} {reference_key} (GET)",
                lambda o, k=reference_key, a=action: f"/workspace/{o[k]}/{a}/",
                codes(405, content_editor=404, medical_reviewer=404, clinic_manager=404),
            )
            for action in ("reply", "note", "status", "assign")
        ),
        (f"workspace share {reference_key}", lambda o, k=reference_key: f"/workspace/{o[k]}/share/", reach),
        *(
            (
                f"workspace {action} referral {reference_key} (GET)",
                lambda o, k=reference_key, a=action: (
                    f"/workspace/{o[k]}/clinics/{o[k.replace('reference', 'referral')]}/{a}/"
                ),
                codes(405, content_editor=404, medical_reviewer=404, clinic_manager=404),
            )
            for action in ("revoke", "publish")
        ),
    ]
CASES.append(("workspace inbox", lambda o: "/workspace/", WORKSPACE_STAFF))
CASES.append(("workspace export", lambda o: "/workspace/export.csv", codes(lead=200, admin=200)))
CASES.append(("workspace numbers", lambda o: "/workspace/dashboard/", codes(lead=200, admin=200)))

# Workspace actions posted empty: refused as invalid (400) within reach, 404 beyond it.
WORKSPACE_POSTS = [
    (f"/workspace/{{{key}}}/{action}/", {**reach, **{u: 400 for u, code in reach.items() if code == 200}})
    for key, reach in (("reference_a", INQUIRY_A), ("reference_b", INQUIRY_B))
    for action in ("reply", "note", "status", "assign", "share")
] + [
    (
        f"/workspace/{{reference_{side}}}/clinics/{{referral_{side}}}/{action}/",
        {**reach, **{u: 400 for u, code in reach.items() if code == 200}},
    )
    for side, reach in (("a", INQUIRY_A), ("b", INQUIRY_B))
    for action in ("revoke", "publish")
]

# The restore button posted empty: refused as invalid (400) for who may change the object, else 404.
RESTORE_POSTS = [
    (
        f"/admin/{app_model}/{{{key}}}/changes/restore/",
        {**reach, **{u: 400 for u, code in reach.items() if code == 200}},
    )
    for app_model, key, reach in (
        ("conditions/condition", "condition", CONTENT),
        ("conditions/treatment", "treatment", CONTENT),
        ("conditions/specialty", "specialty", CONTENT),
        ("clinics/clinic", "clinic", CLINICS),
    )
]

# Actions are posted to the list page: the same rule, 404 for whoever may not run them.
ACTION_CASES = [
    ("export", "export_csv", codes(lead=200, admin=200)),
    ("erase", "erase_personal_data", codes(lead=302, admin=302)),
]


def test_every_staff_url_answers_each_kind_of_user_as_expected(world):
    from django.contrib.contenttypes.models import ContentType

    objects = {
        **world["objects"],
        "clinic_type": ContentType.objects.get_for_model(Clinic).pk,
        "access_log": AccessLog.objects.first().pk,
        "attempt": AccessAttempt.objects.get().pk,
        "failure": AccessFailureLog.objects.get().pk,
    }
    mismatches = []
    for label, url_of, expected in CASES:
        url = url_of(objects)
        for user in USERS:
            status = world["clients"][user].get(url).status_code
            if status != expected[user]:
                mismatches.append(f"{label} ({url}) as {user}: {status}, expected {expected[user]}")
    for template, expected in [*WORKSPACE_POSTS, *RESTORE_POSTS]:
        url = template.format(**objects)
        for user in USERS:
            status = world["clients"][user].post(url, {}).status_code
            if status != expected[user]:
                mismatches.append(f"POST {url} as {user}: {status}, expected {expected[user]}")
    for label, action, expected in ACTION_CASES:
        for user in USERS:
            response = world["clients"][user].post(
                "/admin/inquiries/inquiry/",
                {"action": action, "_selected_action": [str(objects["inquiry_b"])]},
            )
            if response.status_code != expected[user]:
                mismatches.append(
                    f"action {label} as {user}: {response.status_code}, expected {expected[user]}"
                )
    assert mismatches == [], "\n".join(mismatches)


def staff_routes():
    """Every URL pattern under the staff areas, as its route."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    staff_areas = ("admin/", "staff/", "workspace/")
    return {route for route in walk(get_resolver().url_patterns) if route.startswith(staff_areas)}


def test_no_staff_url_is_missing_from_the_matrix():
    sample = dict.fromkeys(
        [
            "reference_a",
            "reference_b",
            "inquiry_a",
            "inquiry_b",
            "attachment_a",
            "email",
            "audit",
            "user",
            "group",
            "clinic",
            "condition",
            "condition_in_review",
            "treatment",
            "specialty",
            "travel_guide",
            "totp",
            "static",
            "task",
            "clinic_type",
            "access_log",
            "attempt",
            "failure",
            "referral_a",
            "referral_b",
        ],
        1,
    )
    sample["attachment_a"] = "3f1c2a4e-0000-4000-8000-000000000000"
    sample["reference_a"] = sample["reference_b"] = "CP-0000-0000"
    sample["referral_a"] = sample["referral_b"] = "3f1c2a4e-0000-4000-8000-000000000001"
    # A regular-expression route reads "^…" in the patterns and "…" once resolved.
    covered = {resolve(url_of(sample)).route for _label, url_of, _expected in CASES}
    routes = {route.replace("admin/^", "admin/") for route in staff_routes()}
    missing = routes - covered
    # The catch-all only serves unknown admin addresses, covered by "unknown admin page".
    assert missing <= {"admin/(?P<url>.*)$"}, sorted(missing)
