"""Medical knowledge: conditions, the treatments for them and the specialties that practise them."""

import datetime
import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from modeltranslation.utils import build_localized_fieldname

from conditions.search import SearchTextQuerySet, display_words, normalize


class Specialty(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    schema_org_specialty = models.CharField(
        _("schema.org specialty"),
        max_length=40,
        blank=True,
        help_text=_("The closest schema.org MedicalSpecialty value, e.g. Neurologic, Physiotherapy."),
    )

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")

    def __str__(self) -> str:
        return self.name


class TreatmentCategory(models.TextChoices):
    PHYSICAL_THERAPY = "physical_therapy", _("Physical therapy")
    MEDICATION = "medication", _("Medications")
    OCCUPATIONAL_THERAPY = "occupational_therapy", _("Occupational therapy")
    PROCEDURE = "procedure", _("Surgical or interventional procedures")
    LIFESTYLE = "lifestyle", _("Lifestyle measures")


# The order in which treatment groups appear on a condition page.
TREATMENT_CATEGORY_ORDER = [choice.value for choice in TreatmentCategory]


def _localized_fieldnames(*fields: str) -> list[str]:
    return [build_localized_fieldname(field, code) for field in fields for code, _name in settings.LANGUAGES]


def written_words(queryset: "models.QuerySet[models.Model]", *fields: str) -> dict[str, str]:
    """{normalized word: how it is written} for these fields in every language (one query)."""
    rows = queryset.values_list(*_localized_fieldnames(*fields))
    return display_words(text for row in rows for text in row)


class TreatmentQuerySet(models.QuerySet["Treatment"]):
    def clinical(self) -> "TreatmentQuerySet":
        """Treatments a clinic can be matched on (not self-care advice)."""
        return self.filter(is_clinical_service=True)


class Treatment(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=160)
    category = models.CharField(_("category"), max_length=32, choices=TreatmentCategory.choices)
    description = models.TextField(_("short description"), blank=True)
    synonyms = models.TextField(
        _("other names"),
        blank=True,
        help_text=_("One per line: brand names, everyday words and spellings patients search for."),
    )
    is_clinical_service = models.BooleanField(
        _("clinical service"),
        default=True,
        help_text=_(
            "A procedure, medicine or therapy a clinic provides. Clear it for self-care advice (home "
            "exercises, lifestyle measures): clinics are never matched to a condition on those."
        ),
    )

    objects = TreatmentQuerySet.as_manager()

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("treatment")
        verbose_name_plural = _("treatments")

    def __str__(self) -> str:
        return self.name

    @property
    def synonym_list(self) -> list[str]:
        return [line.strip() for line in self.synonyms.splitlines() if line.strip()]


class ConditionStatus(models.TextChoices):
    """The editorial state. A page is on the site from its publication until it is withdrawn
    (``published_at``): edited after publication, it goes back to medical review and stays online
    with a notice that the changes are being reviewed."""

    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In medical review")
    PUBLISHED = "published", _("Published")


class SchemaType(models.TextChoices):
    MEDICAL_CONDITION = "MedicalCondition", "MedicalCondition"
    MEDICAL_SIGN = "MedicalSign", "MedicalSign"
    MEDICAL_SYMPTOM = "MedicalSymptom", "MedicalSymptom"


# The texts a reader always meets on a condition page, and the reviewer line: a page is published only
# with all of them in English (other languages fall back to it). The other texts (other names,
# definition, its note, mechanism, treatment in Korea) are optional sections, shown when written.
PUBLICATION_REQUIRED_TEXT = (
    "name",
    "summary",
    "overview",
    "symptoms_intro",
    "care_intro",
    "reviewer_name",
    "reviewer_credentials",
)


# A language's reader-facing texts, whose review goes stale when one of them changes.
REVIEWED_CONDITION_TEXT = (
    "name",
    "other_names",
    "summary",
    "overview",
    "definition",
    "definition_note",
    "symptoms_intro",
    "mechanism",
    "care_intro",
    "korea_intro",
    "reviewer_credentials",
)
REVIEWED_ITEM_TEXT = ("title", "text")
REVIEWED_TREATMENT_NOTE = ("note",)


def translation_fingerprint(
    condition_texts: Iterable[str], item_texts: Iterable[list[str]], treatment_notes: Iterable[str]
) -> str:
    """A digest of one language's texts of a condition: plain values, so that migrations can use it."""
    payload = json.dumps(
        [list(condition_texts), sorted(item_texts), sorted(treatment_notes)], ensure_ascii=False
    )
    return hashlib.sha256(payload.encode()).hexdigest()


class ReviewedTranslationsMixin:
    """A model whose translations a reviewer checks one language at a time. It has a reverse relation
    ``translation_reviews`` to a ``TranslationReviewBase`` model (prefetch it) and a
    ``translation_fingerprint(language)`` of the language's reader-facing texts."""

    translation_reviews: "models.Manager[TranslationReviewBase]"
    translation_fingerprint: Callable[[str], str]

    def translation_review(self, language: str | None = None) -> "TranslationReviewBase | None":
        """This language's review (current or stale), or None."""
        language = language or get_language()
        return next(
            (review for review in self.translation_reviews.all() if review.language == language), None
        )

    def translation_is_reviewed(self, language: str | None = None) -> bool:
        """A reviewer checked this language's texts as they are now (editing them makes the check stale)."""
        language = language or get_language()
        if language == settings.LANGUAGE_CODE:
            return True
        review = self.translation_review(language)
        return review is not None and review.fingerprint == self.translation_fingerprint(language)


class ConditionQuerySet(SearchTextQuerySet["Condition"]):
    def published(self) -> "ConditionQuerySet":
        """Conditions on the site: published, including those whose later changes are in review."""
        return self.filter(published_at__isnull=False)

    def awaiting_review(self) -> "ConditionQuerySet":
        return self.filter(status=ConditionStatus.IN_REVIEW)

    def search_vocabulary(self) -> dict[str, str]:
        """The words of these conditions' names and other names (for "Did you mean …?")."""
        return written_words(self, "name", "other_names")

    def treated_by(
        self, *, treatment_ids: Iterable[int], specialty_ids: Iterable[int]
    ) -> "ConditionQuerySet":
        """Conditions with one of these clinical treatments or relevant specialties (a clinic's offer)."""
        linked = Q(
            pk__in=ConditionTreatment.objects.filter(
                treatment_id__in=treatment_ids, treatment__is_clinical_service=True
            ).values("condition")
        )
        linked |= Q(
            pk__in=Condition.specialties.through.objects.filter(specialty_id__in=specialty_ids).values(
                "condition"
            )
        )
        return self.filter(linked)

    def due_for_review(self, today: datetime.date | None = None) -> "ConditionQuerySet":
        today = today or timezone.localdate()
        return self.filter(next_review_due__lt=today)

    def overdue_reviews(self, today: datetime.date | None = None) -> "ConditionQuerySet":
        """Pages on the site past their next medical review."""
        return self.published().due_for_review(today)

    def with_page_content(self) -> "ConditionQuerySet":
        """Everything the condition page shows, in a fixed number of queries."""
        return self.prefetch_related(
            "specialties",
            "items",
            Prefetch(
                "condition_treatments",
                queryset=ConditionTreatment.objects.select_related("treatment").order_by("position", "id"),
            ),
            "references",
            "translation_reviews",
        )


class Condition(ReviewedTranslationsMixin, models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=160)
    other_names = models.TextField(
        _("other names"), blank=True, help_text=_("One per line: synonyms and spellings patients search for.")
    )
    summary = models.TextField(
        _("short summary"), help_text=_("One or two sentences, also used as the page description.")
    )
    overview = models.TextField(_("overview"), help_text=_("Paragraphs separated by a blank line."))
    definition = models.TextField(_("what it is"), blank=True)
    definition_note = models.TextField(_("note after the key characteristics"), blank=True)
    symptoms_intro = models.TextField(_("introduction to the symptoms"), blank=True)
    mechanism = models.TextField(_("how it arises"), blank=True)
    care_intro = models.TextField(_("introduction to care and treatment"), blank=True)
    korea_intro = models.TextField(_("introduction to treatment in Korea"), blank=True)

    schema_type = models.CharField(
        _("schema.org type"), max_length=32, choices=SchemaType.choices, default=SchemaType.MEDICAL_CONDITION
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ConditionStatus.choices, default=ConditionStatus.DRAFT
    )
    published_at = models.DateTimeField(_("on the site since"), null=True, blank=True, editable=False)
    specialties = models.ManyToManyField(
        Specialty, related_name="conditions", blank=True, verbose_name=_("relevant specialties")
    )
    treatments: "models.ManyToManyField[Treatment, ConditionTreatment]" = models.ManyToManyField(
        Treatment,
        through="ConditionTreatment",
        related_name="conditions",
        blank=True,
        verbose_name=_("treatments"),
    )

    reviewer_name = models.CharField(_("medical reviewer"), max_length=160, blank=True)
    reviewer_credentials = models.CharField(_("reviewer credentials"), max_length=200, blank=True)
    last_reviewed = models.DateField(_("last reviewed"), null=True, blank=True)
    next_review_due = models.DateField(_("next review due"), null=True, blank=True)

    search_text = models.TextField(editable=False, default="")
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConditionQuerySet.as_manager()

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")
        permissions = [
            ("publish_condition", _("Can publish a condition after its medical review")),
            ("review_translation", _("Can record the review of a translation")),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_text = self.build_search_text()
        # On the site from publication until withdrawn to a draft.
        if self.status == ConditionStatus.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        elif self.status == ConditionStatus.DRAFT:
            self.published_at = None
        if (update_fields := kwargs.get("update_fields")) is not None:
            moved = {"published_at"} if "status" in update_fields else set()
            kwargs["update_fields"] = {*update_fields, "search_text", *moved}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("conditions:detail", kwargs={"slug": self.slug})

    def clean(self) -> None:
        if self.status == ConditionStatus.PUBLISHED and (problems := self.publication_problems()):
            raise ValidationError(problems)

    def publication_problems(self) -> dict[str, str | Promise]:
        """What stops this condition from being published: {field: translated message}, empty when
        nothing does."""
        default = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
        problems: dict[str, str | Promise] = {}
        for field in PUBLICATION_REQUIRED_TEXT:
            column = build_localized_fieldname(field, default)
            if not (getattr(self, column) or "").strip():
                problems[column] = _("A published condition needs its “%(field)s” in English.") % {
                    "field": self._meta.get_field(field).verbose_name  # type: ignore[union-attr]  # a model field
                }
        if self.last_reviewed is None:
            problems["last_reviewed"] = _("A published condition needs the date of its last review.")
        if self.next_review_due is None:
            problems["next_review_due"] = _("A published condition needs the date of its next review.")
        elif self.last_reviewed is not None and self.next_review_due <= self.last_reviewed:
            problems["next_review_due"] = _("The next review must come after the last review.")
        return problems

    def build_search_text(self) -> str:
        parts = [self.slug.replace("-", " ")]
        for code, _name in settings.LANGUAGES:
            for field in ("name", "other_names"):
                parts.append(getattr(self, build_localized_fieldname(field, code)) or "")
        return normalize(" \n".join(parts))

    def localized(self, field: str, language: str | None = None) -> str:
        """The field's text in the given language only, without English fallback ('' if missing)."""
        return getattr(self, build_localized_fieldname(field, language or get_language())) or ""

    def is_translated(self, language: str | None = None) -> bool:
        language = language or get_language()
        return all(self.localized(field, language) for field in ("name", "summary", "overview"))

    def translation_fingerprint(self, language: str) -> str:
        """The digest of this language's reader-facing texts (uses prefetched items and treatments)."""
        return translation_fingerprint(
            [self.localized(field, language) for field in REVIEWED_CONDITION_TEXT],
            [
                [
                    getattr(item, build_localized_fieldname(field, language)) or ""
                    for field in REVIEWED_ITEM_TEXT
                ]
                for item in self.items.all()
            ],
            [
                getattr(link, build_localized_fieldname("note", language)) or ""
                for link in self.condition_treatments.all()
            ],
        )

    @property
    def is_on_site(self) -> bool:
        return self.published_at is not None

    @property
    def has_changes_in_review(self) -> bool:
        """Published, then edited: the page is online and its changes await medical review."""
        return self.is_on_site and self.status == ConditionStatus.IN_REVIEW

    @property
    def review_is_overdue(self) -> bool:
        return self.next_review_due is not None and self.next_review_due < timezone.localdate()

    @property
    def synonyms(self) -> list[str]:
        return [line.strip() for line in self.other_names.splitlines() if line.strip()]

    def overview_paragraphs(self) -> list[str]:
        return [p.strip() for p in self.overview.split("\n\n") if p.strip()]

    def items_in(self, section: str) -> "list[ConditionItem]":
        return [item for item in self.items.all() if item.section == section]

    def treatment_groups(self) -> "list[tuple[str | Promise, list[ConditionTreatment]]]":
        """The linked treatments grouped by category, in the page's category order."""
        groups: dict[str, list[ConditionTreatment]] = {}
        for link in self.condition_treatments.all():
            groups.setdefault(link.treatment.category, []).append(link)
        return [
            (TreatmentCategory(category).label, groups[category])
            for category in TREATMENT_CATEGORY_ORDER
            if category in groups
        ]


class ConditionSection(models.TextChoices):
    KEY_FACT = "key_fact", _("Key fact")
    CHARACTERISTIC = "characteristic", _("Key characteristic")
    SYMPTOM = "symptom", _("Symptom")
    SYMPTOM_NOTE = "symptom_note", _("Note on symptoms")
    CAUSE = "cause", _("Cause")
    WARNING_SIGN = "warning_sign", _("When to see a doctor")
    KOREA_OPTION = "korea_option", _("Treatment option in Korea")


class ConditionItem(models.Model):
    """One entry of a list on the condition page: a fact, a symptom, a cause, a warning sign…"""

    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="items")
    section = models.CharField(_("section"), max_length=32, choices=ConditionSection.choices)
    title = models.CharField(
        _("title"), max_length=200, blank=True, help_text=_("Short lead, e.g. the name of a cause. Optional.")
    )
    text = models.TextField(_("text"))
    is_urgent = models.BooleanField(
        _("urgent warning sign"), default=False, help_text=_("Shown as a sign to seek care promptly.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["section", "position", "id"]
        verbose_name = _("list entry")
        verbose_name_plural = _("list entries")

    def __str__(self) -> str:
        return self.title or self.text[:60]


class ConditionTreatment(models.Model):
    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="condition_treatments")
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="condition_links")
    note = models.CharField(
        _("note for this condition"), max_length=300, blank=True, help_text=_("e.g. 'to reduce spasticity'.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["condition", "treatment"], name="unique_condition_treatment")
        ]
        verbose_name = _("treatment for this condition")
        verbose_name_plural = _("treatments for this condition")

    def __str__(self) -> str:
        return f"{self.condition} → {self.treatment}"


class Reference(models.Model):
    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="references")
    citation = models.CharField(_("citation"), max_length=400)
    language = models.CharField(
        _("language of the citation"),
        max_length=10,
        choices=settings.LANGUAGES,
        default="en",
        help_text=_("Citations are shown as published, not translated; pages mark their language."),
    )
    url = models.URLField(_("link"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = pgettext_lazy("bibliography", "reference")
        verbose_name_plural = pgettext_lazy("bibliography", "references")

    def __str__(self) -> str:
        return self.citation


class TranslationReviewBase(models.Model):
    """A medical reviewer has checked the translation of ``subject`` into one language. Concrete
    models add the foreign key named by ``subject_field`` (related name ``translation_reviews``)."""

    subject_field = ""

    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    reviewer_name = models.CharField(_("reviewer"), max_length=160)
    reviewed_on = models.DateField(_("reviewed on"), default=datetime.date.today)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    # The digest of the texts the reviewer checked: when the language's texts change, it no longer
    # matches and the page says again that the translation is not yet checked.
    fingerprint = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        abstract = True
        ordering = ["language"]
        verbose_name = _("translation review")
        verbose_name_plural = _("translation reviews")

    def __str__(self) -> str:
        return f"{self.subject} [{self.language}]"

    @property
    def subject(self) -> ReviewedTranslationsMixin:
        return getattr(self, self.subject_field)  # type: ignore[no-any-return]  # named by subject_field

    def is_current(self) -> bool:
        return self.fingerprint == self.subject.translation_fingerprint(self.language)


class TranslationReview(TranslationReviewBase):
    """A medical reviewer has checked this condition's translation into one language."""

    subject_field = "condition"

    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="translation_reviews")

    class Meta(TranslationReviewBase.Meta):
        constraints = [
            models.UniqueConstraint(fields=["condition", "language"], name="unique_translation_review")
        ]
