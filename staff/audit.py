"""Writing the audit trail: one call per action, from the service or view that performs it."""

from staff.models import AuditEntry


def client_address(request):
    from clinic_portal.client_ip import client_ip

    return client_ip(request) if request is not None else None


def record(action, *, request=None, user=None, obj=None, changes=None, note="", username=""):
    """Append one entry. ``obj`` is described by its label and primary key and its ``str()``,
    which for an inquiry is its reference: never health data."""
    if user is None and request is not None:
        user = getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    return AuditEntry.objects.create(
        user=user,
        username=(user.get_username() if user else username)[:150],
        ip_address=client_address(request),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        changes=changes or {},
        note=note,
    )
