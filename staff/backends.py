"""Authentication backends of the staff side."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


class ModelBackendInOneQuery(ModelBackend):
    """Django's model backend, reading a user's own and group permissions in one query, not two.

    Every staff page checks permissions, so this is one query less on each of them.
    """

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            permissions = Permission.objects.all()
            if not user_obj.is_superuser:
                granted = Permission.user_set.through.objects.filter(user=user_obj).values("permission")
                through_groups = Permission.group_set.through.objects.filter(group__user=user_obj).values(
                    "permission"
                )
                permissions = permissions.filter(Q(pk__in=granted) | Q(pk__in=through_groups))
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in permissions.values_list("content_type__app_label", "codename")
            }
        cached: set[str] = user_obj._perm_cache
        return cached
