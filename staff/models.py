"""Who staff are (coordinator profiles) and what they did (the audit trail)."""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.models import Clinic

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


class CoordinatorProfile(models.Model):
    """The languages a coordinator answers in and, optionally, the clinics they are limited to."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coordinator_profile"
    )
    languages = models.JSONField(_("languages answered"), default=list, blank=True)
    clinics = models.ManyToManyField(
        Clinic,
        blank=True,
        related_name="+",
        verbose_name=_("limited to clinics"),
        help_text=_("Leave empty for a coordinator who may see every request."),
    )

    class Meta:
        verbose_name = _("coordinator profile")
        verbose_name_plural = _("coordinator profiles")

    def __str__(self) -> str:
        return str(self.user)


def languages_of(user: "User | AnonymousUser") -> list[str]:
    """The languages a staff user answers in (none without a coordinator profile)."""
    # Lists of coordinators load their profiles with them; the signed-in user's is read with its scope.
    if user.is_authenticated and get_user_model().coordinator_profile.is_cached(user):
        profile = getattr(user, "coordinator_profile", None)
        return profile.languages if profile else []
    return _coordinator_scope(user)[0]


def clinics_limited_to(user: "User | AnonymousUser") -> list[int]:
    """The clinics a coordinator is limited to; empty for one who may see every request."""
    return _coordinator_scope(user)[1]


def _coordinator_scope(user: "User | AnonymousUser") -> tuple[list[str], list[int]]:
    """A staff user's languages and clinic limits, read in one query once per request.

    Kept on the user object, which Django loads anew for every request, so a change to the
    profile takes effect on the next one.
    """
    if not user.is_authenticated:
        return [], []
    scope: tuple[list[str], list[int]] | None = getattr(user, "_coordinator_scope", None)
    if scope is None:
        rows = list(CoordinatorProfile.objects.filter(user=user).values_list("languages", "clinics"))
        languages = rows[0][0] if rows else []
        clinics = [clinic for _, clinic in rows if clinic is not None]
        scope = (languages, clinics)
        user._coordinator_scope = scope  # type: ignore[attr-defined]
    return scope


class AuditAction(models.TextChoices):
    SIGN_IN = "sign_in", _("Signed in (password)")
    SECOND_FACTOR = "second_factor", _("Confirmed the second factor")
    SECOND_FACTOR_FAILED = "second_factor_failed", _("Wrong second-factor code")
    SIGN_IN_FAILED = "sign_in_failed", _("Failed sign-in")
    LOCKED_OUT = "locked_out", _("Locked out after failed sign-ins")
    SIGN_OUT = "sign_out", _("Signed out")
    SESSION_EXPIRED = "session_expired", _("Session expired")
    DEVICE_ENROLLED = "device_enrolled", _("Enrolled a second-factor device")
    REAUTHENTICATED = "reauthenticated", _("Confirmed identity again")
    REAUTHENTICATION_FAILED = "reauth_failed", _("Failed to confirm identity")
    VIEW = "view", _("Viewed")
    DOWNLOAD = "download", _("Downloaded a file")
    CHANGE = "change", _("Changed")
    STATUS = "status", _("Moved the status")
    ASSIGN = "assign", _("Assigned")
    MESSAGE = "message", _("Wrote a message")
    EMAIL_CORRECTED = "email_corrected", _("Corrected the patient's email")
    EXPORT = "export", _("Exported")
    ERASE = "erase", _("Erased personal data")
    SHARE = "share", _("Shared a case with a clinic")
    REVOKE = "revoke", _("Revoked a clinic's link")
    PUBLISH = "publish", _("Published a clinic's answer")
    CLINIC_VIEW = "clinic_view", _("A clinic viewed a shared case")
    CLINIC_DOWNLOAD = "clinic_download", _("A clinic downloaded a shared file")
    CLINIC_ANSWER = "clinic_answer", _("A clinic answered")


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    """Entries are never changed or deleted through the site; only the retention command prunes them."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError("Audit entries cannot be changed.")

    def delete(self) -> NoReturn:
        raise TypeError("Audit entries cannot be deleted; see prune_older_than().")

    def prune_older_than(self, days: int, now: datetime | None = None) -> int:
        cutoff = (now or timezone.now()) - timedelta(days=days)
        return models.QuerySet.delete(self.filter(at__lt=cutoff))[0]


class AuditEntry(models.Model):
    """Who did what, when, from where, to which object. Never a copy of health data."""

    at = models.DateTimeField(_("when"), default=timezone.now, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    username = models.CharField(_("user"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("changes (old → new)"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        indexes = [
            models.Index(fields=["at"]),
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["user", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.get_action_display()} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("Audit entries cannot be deleted.")
