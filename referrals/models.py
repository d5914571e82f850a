"""A patient's case shared with a clinic, and the clinic's answer (its proposal and estimate).

A coordinator shares an inquiry with one or more clinics (``referrals.services``). Each clinic gets a
private, expiring link to an answer page; only the link's hash is kept. The patient's name and
contact details travel only if the patient agreed to share them; files only if the coordinator ticked
them. The clinic answers in a structured form, revisable until a coordinator publishes the answer to
the patient, who then compares the published answers side by side on the follow-up page.
"""

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.models import Clinic, Doctor
from conditions.models import Treatment
from inquiries.models import Attachment, Inquiry


class ReferralQuerySet(models.QuerySet["Referral"]):
    def open(self, now: datetime | None = None) -> "ReferralQuerySet":
        """Links a clinic may still use: neither revoked nor expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class Referral(models.Model):
    """An inquiry shared with one clinic."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="referrals")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="referrals")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # Decided when the case is shared: the clinic sees the patient's name and contact details only if
    # the patient agreed to share them with the clinics.
    shares_identity = models.BooleanField(_("name and contact details shared"), default=False)
    attachments = models.ManyToManyField(
        Attachment, blank=True, related_name="referrals", verbose_name=_("medical records shared")
    )
    note_to_clinic = models.TextField(_("note to the clinic"), blank=True)
    language = models.CharField(
        _("language of the clinic's email"), max_length=10, choices=settings.LANGUAGES
    )
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("shared by"),
    )
    shared_at = models.DateTimeField(_("shared"), default=timezone.now)
    expires_at = models.DateTimeField(_("link expires"))
    revoked_at = models.DateTimeField(_("link revoked"), null=True, blank=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["shared_at", "clinic__name_en"]
        verbose_name = _("case shared with a clinic")
        verbose_name_plural = _("cases shared with clinics")
        constraints = [models.UniqueConstraint(fields=["inquiry", "clinic"], name="one_referral_per_clinic")]

    def __str__(self) -> str:
        return f"{self.inquiry} → {self.clinic}"

    def is_open(self, now: datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or timezone.now())


class CanTreat(models.TextChoices):
    YES = "yes", _("Yes, we can treat this patient")
    NO = "no", _("No, we cannot treat this patient")
    NEED_MORE_INFORMATION = "more_information", _("We need more information")


class ClinicAnswerQuerySet(models.QuerySet["ClinicAnswer"]):
    def published(self) -> "ClinicAnswerQuerySet":
        return self.filter(published_at__isnull=False)


class ClinicAnswer(models.Model):
    """A clinic's answer to a shared case: whether it can treat, what it proposes, when, for how much."""

    referral = models.OneToOneField(Referral, on_delete=models.CASCADE, related_name="answer")
    can_treat = models.CharField(_("can you treat this patient?"), max_length=20, choices=CanTreat.choices)
    treatments = models.ManyToManyField(
        Treatment, blank=True, related_name="+", verbose_name=_("proposed treatments")
    )
    plan = models.TextField(_("proposed treatment plan"), blank=True)
    doctor = models.ForeignKey(
        Doctor,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible doctor"),
    )
    earliest_start = models.DateField(_("earliest start date"), null=True, blank=True)
    stay_days = models.PositiveSmallIntegerField(_("expected stay (days)"), null=True, blank=True)
    price_min_krw = models.PositiveBigIntegerField(_("estimated price from (KRW)"), null=True, blank=True)
    price_max_krw = models.PositiveBigIntegerField(_("estimated price to (KRW)"), null=True, blank=True)
    included = models.TextField(_("what the price includes"), blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    # The clinic's free texts (plan, what is included) are shown to the patient as written, labelled
    # with their language.
    text_language = models.CharField(
        _("language of your texts"), max_length=10, choices=settings.LANGUAGES, default="ko"
    )
    answered_at = models.DateTimeField(_("answered"), default=timezone.now)
    revised_at = models.DateTimeField(_("last revised"), null=True, blank=True)
    published_at = models.DateTimeField(_("published to the patient"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    coordinator_note = models.TextField(_("coordinator's note to the patient"), blank=True)

    objects = ClinicAnswerQuerySet.as_manager()

    class Meta:
        ordering = ["answered_at"]
        verbose_name = _("clinic answer")
        verbose_name_plural = _("clinic answers")
        constraints = [
            models.CheckConstraint(
                condition=Q(price_min_krw__isnull=True)
                | Q(price_max_krw__isnull=True)
                | Q(price_min_krw__lte=F("price_max_krw")),
                name="clinic_answer_price_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return str(self.referral)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None
