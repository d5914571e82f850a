"""Staff roles: groups with exactly the permissions each job needs (see the README)."""

from django.db.models import Q

ADMIN = "Admin"
CONTENT_EDITOR = "Content editor"
MEDICAL_REVIEWER = "Medical reviewer"
CLINIC_MANAGER = "Clinic manager"
COORDINATOR = "Coordinator"
COORDINATOR_LEAD = "Coordinator lead"

_COORDINATOR = [
    "inquiries.view_inquiry",
    "inquiries.change_inquiry",  # answer and move the status; the patient's own words stay read-only
    "inquiries.download_attachment",
    "inquiries.correct_patient_email",
    "inquiries.view_attachment",  # the list of files on an inquiry (downloading takes the permission above)
    "inquiries.view_timelineentry",  # the inquiry's history
    "clinics.view_clinic",
    "conditions.view_condition",
    # sharing a case with clinics, revoking a clinic's link, publishing a clinic's answer to the patient
    "referrals.view_referral",
    "referrals.add_referral",
    "referrals.change_referral",
    "referrals.view_clinicanswer",
    "referrals.change_clinicanswer",
]

# Publishing medical content and vouching for a translation are the medical reviewer's, not the editor's.
_MEDICAL_SIGN_OFF = [
    "conditions.publish_condition",
    "conditions.review_translation",
    # Checks are recorded through the review page only, never typed in or restored by an editor.
    "conditions.add_translationreview",
    "conditions.change_translationreview",
    "conditions.delete_translationreview",
    "travel.review_translation",
    "travel.add_guidetranslationreview",
    "travel.change_guidetranslationreview",
    "travel.delete_guidetranslationreview",
]

# "app_label.*" is every permission of that app; "-app_label.codename" takes one away again.
ROLES = {
    ADMIN: ["*"],
    CONTENT_EDITOR: ["conditions.*", "travel.*", *(f"-{permission}" for permission in _MEDICAL_SIGN_OFF)],
    MEDICAL_REVIEWER: [
        *_MEDICAL_SIGN_OFF,
        "conditions.view_condition",
        "conditions.view_conditionitem",
        "conditions.view_conditiontreatment",
        "conditions.view_reference",
        "conditions.view_translationreview",
        "conditions.view_treatment",
        "conditions.view_specialty",
        "conditions.view_historicalcondition",
        "travel.view_travelguide",
        "travel.view_guidesection",
        "travel.view_guidetranslationreview",
    ],
    CLINIC_MANAGER: [
        "clinics.*",
        "conditions.view_condition",
        "conditions.view_treatment",
        "conditions.view_specialty",
    ],
    COORDINATOR: _COORDINATOR,
    COORDINATOR_LEAD: [
        *_COORDINATOR,
        "inquiries.view_all_inquiries",
        "inquiries.assign_inquiry",
        "inquiries.export_inquiry",
        "inquiries.erase_inquiry",
    ],
}


def coordinators():
    """Active staff in a coordinator role (for assignment), with their profiles."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name__in=[COORDINATOR, COORDINATOR_LEAD])
        .select_related("coordinator_profile")
        .distinct()
        .order_by("username")
    )


def _permissions_for(Permission, patterns):
    query, taken_away = Q(pk__in=[]), Q(pk__in=[])
    for pattern in patterns:
        if pattern == "*":
            return Permission.objects.all()
        excluded = pattern.startswith("-")
        app_label, codename = pattern.removeprefix("-").split(".", 1)
        if codename == "*":
            match = Q(content_type__app_label=app_label)
        else:
            match = Q(content_type__app_label=app_label, codename=codename)
        if excluded:
            taken_away |= match
        else:
            query |= match
    return Permission.objects.filter(query).exclude(taken_away)


def sync_roles(apps=None):
    """Create the role groups and give each exactly its permissions (idempotent)."""
    if apps is None:
        from django.apps import apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, patterns in ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions_for(Permission, patterns))


def sync_after_migrate(sender, using=None, **kwargs):
    if sender.name == "staff":
        sync_roles()
