"""Staff roles: groups with exactly the permissions each job needs (see the README)."""

from django.db.models import Q

ADMIN = "Admin"
CONTENT_EDITOR = "Content editor"
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
]

# "app_label.*" is every permission of that app.
ROLES = {
    ADMIN: ["*"],
    CONTENT_EDITOR: ["conditions.*"],
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
    query = Q(pk__in=[])
    for pattern in patterns:
        if pattern == "*":
            return Permission.objects.all()
        app_label, codename = pattern.split(".", 1)
        if codename == "*":
            query |= Q(content_type__app_label=app_label)
        else:
            query |= Q(content_type__app_label=app_label, codename=codename)
    return Permission.objects.filter(query)


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
