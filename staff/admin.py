from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from staff.models import AuditEntry, CoordinatorProfile


class CoordinatorProfileForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(
        label=_("languages answered"),
        choices=settings.LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = CoordinatorProfile
        fields = ["languages", "clinics"]


class CoordinatorProfileInline(admin.StackedInline):
    model = CoordinatorProfile
    form = CoordinatorProfileForm
    can_delete = False
    autocomplete_fields = ["clinics"]


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class StaffUserAdmin(UserAdmin):
    inlines = [CoordinatorProfileInline]
    list_display = ["username", "email", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "groups"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Browse and filter the trail; nobody adds, changes or deletes an entry here."""

    list_display = ["at", "username", "action", "object_repr", "ip_address"]
    list_filter = ["action", "object_type", ("at", admin.DateFieldListFilter), "user"]
    search_fields = ["username", "object_repr", "object_id", "ip_address"]
    date_hierarchy = "at"
    list_select_related = False
    readonly_fields = [
        "at",
        "user",
        "username",
        "ip_address",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "changes",
        "note",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
