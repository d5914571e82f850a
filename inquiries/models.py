"""Consultation inquiries: the patient's request, its files, its timeline and the emails about it."""

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from email.utils import make_msgid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from phonenumber_field.modelfields import PhoneNumberField

from clinics.models import Clinic
from conditions.models import Condition
from conditions.search import SearchTextQuerySet, normalize
from staff.models import clinics_limited_to

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

# Crockford's base32 without the look-alikes I, L, O and U: easy to read out on the phone.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference() -> str:
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"CP-{chars[:4]}-{chars[4:]}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InquiryStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    IN_REVIEW = "in_review", _("Being reviewed")
    WAITING_FOR_PATIENT = "waiting_for_patient", _("Waiting for your reply")
    WITH_CLINICS = "with_clinics", _("Shared with clinics")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


STATUS_EXPLANATIONS = {
    InquiryStatus.RECEIVED: _("We have your request. A coordinator will reply within 24 hours."),
    InquiryStatus.IN_REVIEW: _("A coordinator is reading your request and records."),
    InquiryStatus.WAITING_FOR_PATIENT: _(
        "We need more information from you. Please read our last message and reply below."
    ),
    InquiryStatus.WITH_CLINICS: _(
        "Your request has been shared with the clinics you chose. We will pass on their answers."
    ),
    InquiryStatus.ANSWERED: _("We have answered your request. You can still reply below."),
    InquiryStatus.CLOSED: _("This request is closed. Send a new request if you need more help."),
}

# The moves a coordinator may make; ``inquiries.services.inquiry_transition`` enforces them.
ALLOWED_TRANSITIONS = {
    InquiryStatus.RECEIVED: {InquiryStatus.IN_REVIEW, InquiryStatus.CLOSED},
    InquiryStatus.IN_REVIEW: {
        InquiryStatus.WAITING_FOR_PATIENT,
        InquiryStatus.WITH_CLINICS,
        InquiryStatus.ANSWERED,
        InquiryStatus.CLOSED,
    },
    InquiryStatus.WAITING_FOR_PATIENT: {InquiryStatus.IN_REVIEW, InquiryStatus.CLOSED},
    InquiryStatus.WITH_CLINICS: {
        InquiryStatus.ANSWERED,
        InquiryStatus.WAITING_FOR_PATIENT,
        InquiryStatus.CLOSED,
    },
    InquiryStatus.ANSWERED: {InquiryStatus.IN_REVIEW, InquiryStatus.CLOSED},
    InquiryStatus.CLOSED: {InquiryStatus.IN_REVIEW},
}


class ClosingReason(models.TextChoices):
    BOOKED = "booked", _("Treatment booked")
    DECLINED = "declined", _("Declined by the patient")
    NOT_ELIGIBLE = "not_eligible", _("Not eligible")
    NO_RESPONSE = "no_response", _("No response from the patient")
    DUPLICATE = "duplicate", _("Duplicate request")
    SPAM = "spam", _("Spam")
    ERASED = "erased", _("Personal data erased")


def allowed_moves(status: str) -> "list[InquiryStatus]":
    """The statuses an inquiry may move to from ``status``, in the workflow's order."""
    return sorted(ALLOWED_TRANSITIONS[InquiryStatus(status)], key=list(InquiryStatus).index)


# The reasons a coordinator gives for closing ("erased" is the erasure's own).
STAFF_CLOSING_REASONS = [
    (value, label) for value, label in ClosingReason.choices if value != ClosingReason.ERASED
]


class ContactChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone call")
    WHATSAPP = "whatsapp", "WhatsApp"
    KAKAOTALK = "kakaotalk", "KakaoTalk"
    WECHAT = "wechat", "WeChat"
    LINE = "line", "LINE"
    TELEGRAM = "telegram", "Telegram"
    VIBER = "viber", "Viber"
    ZALO = "zalo", "Zalo"


class PatientRelation(models.TextChoices):
    SELF = "self", _("Myself")
    FAMILY = "family", _("A family member")
    OTHER = "other", _("Someone else")


class SymptomDuration(models.TextChoices):
    UNDER_MONTH = "under_1_month", _("Less than a month")
    MONTHS = "1_6_months", _("1 to 6 months")
    UNDER_YEAR = "6_12_months", _("6 to 12 months")
    YEARS = "1_5_years", _("1 to 5 years")
    OVER_FIVE_YEARS = "over_5_years", _("More than 5 years")


OPEN_STATUSES = [status for status in InquiryStatus if status != InquiryStatus.CLOSED]


class InquiryQuerySet(SearchTextQuerySet["Inquiry"]):
    def open(self) -> "InquiryQuerySet":
        # "status IN (…)", not "NOT closed": the status indexes serve it however many are closed.
        return self.filter(status__in=OPEN_STATUSES)

    def awaiting_first_response(self) -> "InquiryQuerySet":
        return self.open().filter(first_responded_at__isnull=True)

    def overdue(self, now: datetime | None = None) -> "InquiryQuerySet":
        """Open, not yet answered, and past the first-response target."""
        return self.open().filter(self.overdue_condition(now))

    @staticmethod
    def overdue_condition(now: datetime | None = None) -> models.Q:
        """What makes an open inquiry overdue: not yet answered, and past the first-response target."""
        return models.Q(first_responded_at__isnull=True, first_response_due_at__lt=now or timezone.now())

    def visible_to(self, user: "User | AnonymousUser") -> "InquiryQuerySet":
        """The one rule for which inquiries a staff user may reach; every staff path goes through it.

        A coordinator limited to clinics sees the inquiries that name one of them; an unlimited
        coordinator, a lead (``view_all_inquiries``) and an admin see all. Inactive or non-staff
        users see none. Read on every request, so a change takes effect on the next one.
        """
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return self.none()
        if user.has_perm("inquiries.view_all_inquiries"):
            return self
        if not user.has_perm("inquiries.view_inquiry"):
            return self.none()
        limited_to = clinics_limited_to(user)
        if not limited_to:
            return self
        names_one = Inquiry.preferred_clinics.through.objects.filter(
            inquiry_id=models.OuterRef("pk"), clinic_id__in=limited_to
        )
        return self.filter(models.Exists(names_one))

    def for_email(self, email: str) -> "InquiryQuerySet":
        return self.filter(email__iexact=email, anonymised_at__isnull=True)

    def due_for_purge(
        self, *, days: int, abandoned_days: int, now: datetime | None = None
    ) -> "InquiryQuerySet":
        """Closed longer than ``days`` ago, or still open but untouched for ``abandoned_days``."""
        now = now or timezone.now()
        closed_long_ago = models.Q(status=InquiryStatus.CLOSED, closed_at__lt=now - timedelta(days=days))
        quiet_since = now - timedelta(days=abandoned_days)
        activity = TimelineEntry.objects.filter(inquiry=models.OuterRef("pk"), created_at__gte=quiet_since)
        abandoned = models.Q(status__in=OPEN_STATUSES, created_at__lt=quiet_since) & ~models.Exists(activity)
        return self.filter(closed_long_ago | abandoned, anonymised_at__isnull=True)


class Inquiry(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(
        _("reference"), max_length=12, unique=True, default=new_reference, editable=False
    )
    status = models.CharField(
        _("status"), max_length=24, choices=InquiryStatus.choices, default=InquiryStatus.RECEIVED
    )

    full_name = models.CharField(_("full name"), max_length=200)
    email = models.EmailField(_("email"))
    phone = PhoneNumberField(_("phone"), blank=True)
    contact_channel = models.CharField(
        _("preferred contact channel"), max_length=16, choices=ContactChannel.choices
    )
    contact_handle = models.CharField(_("ID or number for that channel"), max_length=120, blank=True)
    country = CountryField(_("country of residence"))
    language = models.CharField(_("preferred language"), max_length=10, choices=settings.LANGUAGES)
    patient_relation = models.CharField(_("the patient is"), max_length=10, choices=PatientRelation.choices)
    patient_age = models.PositiveSmallIntegerField(_("patient's age"), validators=[MaxValueValidator(120)])
    condition = models.ForeignKey(
        Condition,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inquiries",
        verbose_name=_("condition"),
    )
    symptom_duration = models.CharField(
        _("how long the symptoms have lasted"), max_length=16, choices=SymptomDuration.choices
    )
    diagnosis = models.TextField(_("current diagnosis"), blank=True)
    medications = models.TextField(_("current medications"), blank=True)
    message = models.TextField(_("question or message"))
    preferred_clinics = models.ManyToManyField(
        Clinic, blank=True, related_name="inquiries", verbose_name=_("preferred clinics")
    )
    travel_from = models.DateField(_("could travel from"), null=True, blank=True)
    travel_until = models.DateField(_("could travel until"), null=True, blank=True)

    consent_health_data_at = models.DateTimeField(_("health-data consent given at"))
    consent_health_data_text = models.TextField(_("health-data consent wording"))
    consent_health_data_version = models.CharField(_("health-data consent version"), max_length=20)
    consent_news = models.BooleanField(_("agreed to receive news"), default=False)
    # Optional, separate from the health-data consent: without it, clinics see the case without the
    # patient's name and contact details.
    consent_share_at = models.DateTimeField(
        _("consent to share with clinics given at"), null=True, blank=True
    )
    consent_share_text = models.TextField(_("consent to share wording"), blank=True)
    consent_share_version = models.CharField(_("consent to share version"), max_length=20, blank=True)

    follow_up_token_hash = models.CharField(max_length=64, unique=True, editable=False)
    submission_key = models.UUIDField(unique=True, editable=False)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_inquiries",
        verbose_name=_("coordinator"),
    )
    created_at = models.DateTimeField(_("received"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    deletion_requested_at = models.DateTimeField(_("deletion requested"), null=True, blank=True)
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True)
    # Set when the patient's mail server refused our email for good; cleared when the address is corrected.
    email_refused_at = models.DateTimeField(_("email address refused"), null=True, blank=True, editable=False)

    # The coordinators' work on it.
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, editable=False)
    first_responded_at = models.DateTimeField(_("first response"), null=True, blank=True, editable=False)
    closing_reason = models.CharField(
        _("closing reason"), max_length=16, choices=ClosingReason.choices, blank=True
    )
    unread_patient_messages = models.PositiveSmallIntegerField(
        _("unread patient messages"), default=0, editable=False
    )
    # Raised by every change made in the workspace: a form built on an older version is refused.
    version = models.PositiveIntegerField(default=1, editable=False)
    # Reference, name and email, normalized (case, width, accents) for the workspace's search.
    search_text = models.TextField(blank=True, editable=False)

    objects = InquiryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")
        indexes = [
            # The inbox: for each filter an index that also yields the rows most urgent first, so a page
            # is read from the top of one index (any further filter is checked on those rows).
            models.Index(fields=["first_response_due_at"], name="inquiry_due"),
            models.Index(fields=["status", "first_response_due_at"], name="inquiry_status_due"),
            models.Index(fields=["assigned_to", "first_response_due_at"], name="inquiry_assignee_due"),
            # The coordinator's own queue and the mine / unassigned counts: open inquiries only.
            models.Index(
                fields=["assigned_to", "first_response_due_at"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="inquiry_open_assignee_due",
            ),
            models.Index(fields=["language", "first_response_due_at"], name="inquiry_language_due"),
            models.Index(fields=["condition", "first_response_due_at"], name="inquiry_condition_due"),
            models.Index(
                fields=["first_response_due_at", "status"],
                condition=models.Q(first_responded_at__isnull=True),
                name="inquiry_unanswered_due",
            ),
            models.Index(
                fields=["first_response_due_at"],
                condition=models.Q(unread_patient_messages__gt=0),
                name="inquiry_unread_due",
            ),
            models.Index(fields=["created_at"], name="inquiry_created"),
            models.Index(fields=["status", "created_at"], name="inquiry_status_created"),
            # The admin's list, newest first, of the few inquiries whose deletion was requested.
            models.Index(
                fields=["created_at"],
                condition=models.Q(deletion_requested_at__isnull=False),
                name="inquiry_deletion_requested",
            ),
            # An address looked up whatever its case (``email__iexact``: the admin's search, lost links).
            models.Index(Upper("email"), name="inquiry_email_upper"),
        ]
        permissions = [
            ("download_attachment", _("Can download medical records")),
            ("view_all_inquiries", _("Can see every inquiry, whatever the coordinator's clinics")),
            ("assign_inquiry", _("Can assign inquiries to coordinators")),
            ("export_inquiry", _("Can export inquiries")),
            ("erase_inquiry", _("Can erase personal data")),
            ("correct_patient_email", _("Can correct the patient's email address")),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_text = normalize(" ".join([self.reference, self.full_name, self.email]))
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"full_name", "email"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_text"}
        if self.first_response_due_at is None:
            received = self.created_at or timezone.now()
            self.first_response_due_at = received + timedelta(hours=settings.FIRST_RESPONSE_HOURS)
        super().save(*args, **kwargs)

    @property
    def is_overdue(self) -> bool:
        return (
            self.status != InquiryStatus.CLOSED
            and self.first_responded_at is None
            and self.first_response_due_at is not None
            and self.first_response_due_at < timezone.now()
        )

    def set_follow_up_token(self) -> str:
        """Create a new private follow-up token; only its hash is kept. Returns the token."""
        token = secrets.token_urlsafe(32)
        self.follow_up_token_hash = hash_token(token)
        return token

    def token_matches(self, token: str) -> bool:
        """The follow-up token, or the unexpired token of a link sent with a notice."""
        token_hash = hash_token(token)
        if secrets.compare_digest(self.follow_up_token_hash, token_hash):
            return True
        return self.notice_links.filter(token_hash=token_hash, expires_at__gt=timezone.now()).exists()

    def follow_up_path(self, token: str, language: str | None = None) -> str:
        with translation.override(language or self.language):
            return reverse("inquiries:follow_up", kwargs={"reference": self.reference, "token": token})

    @property
    def status_explanation(self) -> str | Promise:
        return STATUS_EXPLANATIONS[InquiryStatus(self.status)]


class NoticeLink(models.Model):
    """A private link sent with one notice email, so that the patient reaches the conversation in one
    click. Only its hash is kept; it expires, and a new follow-up link or erasure removes it."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="notice_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.inquiry} · {self.expires_at:%Y-%m-%d}"

    @classmethod
    def issue(cls, inquiry: Inquiry) -> str:
        """A new link for this inquiry; returns its token."""
        token = secrets.token_urlsafe(32)
        cls.objects.create(
            inquiry=inquiry,
            token_hash=hash_token(token),
            expires_at=timezone.now() + timedelta(days=settings.NOTICE_LINK_DAYS),
        )
        return token


class HeldUploadQuerySet(models.QuerySet["HeldUpload"]):
    def unexpired(self, now: datetime | None = None) -> "HeldUploadQuerySet":
        return self.filter(created_at__gte=self.expiry_cutoff(now))

    def expired(self, now: datetime | None = None) -> "HeldUploadQuerySet":
        return self.filter(created_at__lt=self.expiry_cutoff(now))

    @staticmethod
    def expiry_cutoff(now: datetime | None = None) -> datetime:
        return (now or timezone.now()) - timedelta(hours=settings.HELD_UPLOAD_HOURS)


class HeldUpload(models.Model):
    """A valid file from a request that failed validation, held for the corrected resubmission.

    Keyed by the form's submission key (random, known only to the page that holds it); never served
    back, only named with its size. Expired ones are deleted by ``purge_inquiries``.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    submission_key = models.UUIDField()
    file = models.FileField(max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = HeldUploadQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "original_name"]
        indexes = [models.Index(fields=["submission_key"])]

    def __str__(self) -> str:
        return self.original_name


# What the patient wrote, stored on the inquiry itself (their clinic choices are a relation).
PATIENT_FIELDS = [
    "full_name",
    "email",
    "phone",
    "contact_channel",
    "contact_handle",
    "country",
    "language",
    "patient_relation",
    "patient_age",
    "condition",
    "symptom_duration",
    "diagnosis",
    "medications",
    "message",
    "travel_from",
    "travel_until",
]


class TimelineKind(models.TextChoices):
    CREATED = "created", _("Request received")
    STATUS = "status", _("Status changed")
    PATIENT_MESSAGE = "patient_message", _("Message from the patient")
    COORDINATOR_MESSAGE = "coordinator_message", _("Message from our coordinator")
    NOTE = "note", _("Internal note")
    ASSIGNED = "assigned", _("Assigned")
    DELETION_REQUESTED = "deletion_requested", _("Deletion requested")
    LINK_RESENT = "link_resent", _("Follow-up link sent again")
    ANONYMISED = "anonymised", _("Personal data erased")
    EMAIL_REFUSED = "email_refused", _("The patient's address refused our email")
    SHARED_WITH_CLINIC = "shared_with_clinic", _("Shared with a clinic")
    CLINIC_LINK_REVOKED = "clinic_link_revoked", _("A clinic's link revoked")
    CLINIC_ANSWER = "clinic_answer", _("Answer from a clinic")
    ANSWER_PUBLISHED = "answer_published", _("A clinic's answer published to the patient")


class TimelineEntryQuerySet(models.QuerySet["TimelineEntry"]):
    def public(self) -> "TimelineEntryQuerySet":
        return self.filter(is_public=True)


class TimelineEntry(models.Model):
    """Append-only history of an inquiry. Public entries are shown to the patient."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(_("kind"), max_length=24, choices=TimelineKind.choices)
    is_public = models.BooleanField(_("visible to the patient"), default=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    body = models.TextField(_("text"), blank=True)
    old_status = models.CharField(max_length=24, choices=InquiryStatus.choices, blank=True)
    new_status = models.CharField(max_length=24, choices=InquiryStatus.choices, blank=True)
    # The reply form's key: the same reply sent twice is stored once.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TimelineEntryQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")

    def __str__(self) -> str:
        return f"{self.inquiry} · {self.get_kind_display()}"


def attachment_path(attachment: "Attachment", filename: str) -> str:
    return f"inquiries/{attachment.inquiry_id}/{attachment.id}{attachment.extension}"


class Attachment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="attachments")
    timeline_entry = models.ForeignKey(
        TimelineEntry, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("original file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "original_name"]
        verbose_name = _("medical record")
        verbose_name_plural = _("medical records")

    def __str__(self) -> str:
        return self.original_name

    @property
    def extension(self) -> str:
        return {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}[self.content_type]


class EmailKind(models.TextChoices):
    PATIENT_CONFIRMATION = "patient_confirmation", _("Confirmation to the patient")
    COORDINATOR_NEW = "coordinator_new", _("New inquiry to coordinators")
    COORDINATOR_REPLY = "coordinator_reply", _("Patient reply to coordinators")
    FOLLOW_UP_LINK = "follow_up_link", _("Follow-up link sent again")
    DELETION_REQUEST = "deletion_request", _("Deletion request to coordinators")
    EMAIL_CHANGED = "email_changed", _("Notice of a corrected email address, to the old address")
    PATIENT_UPDATE = "patient_update", _("News about the request to the patient")
    CLINIC_REFERRAL = "clinic_referral", _("A shared case, to a clinic")
    COORDINATOR_CLINIC_ANSWER = "coordinator_answer", _("A clinic's answer, to coordinators")


class EmailStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled (personal data erased)")


class EmailFailure(models.TextChoices):
    REFUSED = "refused", _("Refused by the receiving server")
    GAVE_UP = "gave_up", _("Not delivered within the retry period")


# Emails to the patient's current address: a permanent refusal flags the inquiry.
PATIENT_EMAIL_KINDS = {EmailKind.PATIENT_CONFIRMATION, EmailKind.FOLLOW_UP_LINK, EmailKind.PATIENT_UPDATE}
COORDINATOR_EMAIL_KINDS = {
    EmailKind.COORDINATOR_NEW,
    EmailKind.COORDINATOR_REPLY,
    EmailKind.DELETION_REQUEST,
    EmailKind.COORDINATOR_CLINIC_ANSWER,
}


def new_message_id() -> str:
    """Fixed when the email is written, so that a repeated delivery is recognisably the same message."""
    return make_msgid(idstring="clinic-portal", domain=urlsplit(settings.SITE_URL).hostname or "localhost")


def retry_deadline() -> datetime:
    return timezone.now() + timedelta(hours=settings.EMAIL_RETRY_HOURS)


class OutgoingEmailQuerySet(models.QuerySet["OutgoingEmail"]):
    def claimable(self, now: datetime) -> "OutgoingEmailQuerySet":
        """Pending, due, and not leased by a worker that may still be sending it."""
        return self.filter(
            models.Q(lease_until__isnull=True) | models.Q(lease_until__lt=now),
            status=EmailStatus.PENDING,
            next_attempt_at__lte=now,
        )

    def lagging(self, now: datetime) -> "OutgoingEmailQuerySet":
        return self.filter(
            status=EmailStatus.PENDING,
            created_at__lt=now - timedelta(minutes=settings.EMAIL_LAG_ALERT_MINUTES),
        )

    def failed_unreported(self) -> "OutgoingEmailQuerySet":
        return self.filter(status=EmailStatus.FAILED, failure_alerted_at__isnull=True)

    def lagging_unreported(self, now: datetime) -> "OutgoingEmailQuerySet":
        return self.lagging(now).filter(lag_alerted_at__isnull=True)


class OutgoingEmail(models.Model):
    """An email written in the request's transaction and delivered by a background task.

    Delivery is at least once (see ``inquiries.delivery``): a worker leases the row, sends with the
    fixed Message-ID, and records the outcome; no transaction is open while the SMTP server talks.
    The body is cleared once sent: it may carry a private follow-up link. ``last_error`` keeps SMTP
    status codes only, never addresses or the server's text.
    """

    inquiry = models.ForeignKey(
        Inquiry, on_delete=models.SET_NULL, null=True, blank=True, related_name="emails"
    )
    kind = models.CharField(max_length=24, choices=EmailKind.choices)
    to = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    message_id = models.CharField(max_length=255, default=new_message_id, editable=False)
    status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING)
    failure = models.CharField(max_length=10, choices=EmailFailure.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Set while a worker sends it; another process may take it over only once this has passed.
    lease_until = models.DateTimeField(null=True, blank=True)
    retry_until = models.DateTimeField(default=retry_deadline)
    task_id = models.CharField(max_length=64, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    # When someone was told that it was late, and that it failed (two alerts: a late email may fail later).
    lag_alerted_at = models.DateTimeField(null=True, blank=True)
    failure_alerted_at = models.DateTimeField(null=True, blank=True)

    objects = OutgoingEmailQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(status="pending"), name="email_pending_due"
            ),
            models.Index(fields=["status", "failed_at"], name="email_status_failed"),
            # The admin's list, newest first, with or without a status.
            models.Index(fields=["created_at"], name="email_created"),
            models.Index(fields=["status", "created_at"], name="email_status_created"),
        ]

    def __str__(self) -> str:
        # Never the address: this text goes into the audit trail, which outlives an erasure.
        return f"{self.get_kind_display()} #{self.pk}"
