"""Writing the audit trail: one call per action, from the service or view that performs it."""

from typing import TYPE_CHECKING, Any

from staff.models import AuditEntry

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.db import models
    from django.http import HttpRequest


def client_address(request: "HttpRequest | None") -> str | None:
    from clinic_portal.client_ip import client_ip

    return client_ip(request) if request is not None else None


def record(
    action: str,
    *,
    request: "HttpRequest | None" = None,
    user: "User | AnonymousUser | None" = None,
    obj: "models.Model | None" = None,
    changes: dict[str, Any] | None = None,
    note: str = "",
    username: str = "",
) -> AuditEntry:
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
