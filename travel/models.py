"""The guide to coming to Korea for treatment: visas, documents, arrival, payment and where to turn
when something goes wrong. Reviewed like a condition page, and its translations one language at a time."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from modeltranslation.utils import build_localized_fieldname

from conditions.models import ReviewedTranslationsMixin, TranslationReviewBase, translation_fingerprint

# A language's reader-facing texts, whose review goes stale when one of them changes.
REVIEWED_GUIDE_TEXT = ("title", "summary", "reviewer_credentials")
REVIEWED_SECTION_TEXT = ("heading", "body")
# The section on invitation letters ends with a link to the clinics, whose pages show their registration.
INVITATION_SECTION = "invitation"
# Addresses the guide page gives its own parts (the table of contents, the review box).
RESERVED_ANCHORS = frozenset({"toc", "toc-heading", "review", "review-heading", "main"})


class TravelGuideQuerySet(models.QuerySet["TravelGuide"]):
    def published(self) -> "TravelGuideQuerySet":
        return self.filter(is_published=True)

    def with_page_content(self) -> "TravelGuideQuerySet":
        """Everything the guide page shows, in a fixed number of queries."""
        return self.prefetch_related(
            Prefetch("sections", queryset=GuideSection.objects.order_by("position", "id")),
            "translation_reviews",
        )


class TravelGuide(ReviewedTranslationsMixin, models.Model):
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(
        _("short summary"), help_text=_("One or two sentences, also used as the page description.")
    )
    is_published = models.BooleanField(
        _("on the site"), default=False, help_text=_("Only one guide is on the site at a time.")
    )
    reviewer_name = models.CharField(_("medical reviewer"), max_length=160, blank=True)
    reviewer_credentials = models.CharField(_("reviewer credentials"), max_length=200, blank=True)
    last_reviewed = models.DateField(_("last reviewed"), null=True, blank=True)
    next_review_due = models.DateField(_("next review due"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TravelGuideQuerySet.as_manager()

    class Meta:
        ordering = ["-is_published", "-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_published"], condition=Q(is_published=True), name="one_published_travel_guide"
            )
        ]
        verbose_name = _("travel guide")
        verbose_name_plural = _("travel guides")
        permissions = [("review_translation", _("Can record the review of a translation"))]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("travel:guide")

    def clean(self) -> None:
        problems: dict[str, str | Promise] = {}
        if self.last_reviewed and self.last_reviewed > timezone.localdate():
            problems["last_reviewed"] = _("The review date cannot be in the future.")
        if self.last_reviewed and self.next_review_due and self.next_review_due <= self.last_reviewed:
            problems["next_review_due"] = _("The next review must come after the last review.")
        if self.is_published:
            default = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
            if not (getattr(self, build_localized_fieldname("reviewer_name", default)) or "").strip():
                problems[build_localized_fieldname("reviewer_name", default)] = _(
                    "A guide on the site needs its medical reviewer."
                )
            if self.last_reviewed is None:
                problems["last_reviewed"] = _("A guide on the site needs the date of its last review.")
            if self.next_review_due is None:
                problems["next_review_due"] = _("A guide on the site needs the date of its next review.")
            others = TravelGuide.objects.published().exclude(pk=self.pk)
            if others.exists():
                problems["is_published"] = _("Another guide is on the site: take it off first.")
        if problems:
            raise ValidationError(problems)

    def localized(self, field: str, language: str) -> str:
        """The field's text in this language only, without English fallback ('' if missing)."""
        return str(getattr(self, build_localized_fieldname(field, language)) or "")

    def is_translated(self, language: str) -> bool:
        return all(self.localized(field, language) for field in ("title", "summary"))

    def translation_fingerprint(self, language: str) -> str:
        """The digest of this language's reader-facing texts (uses the prefetched sections)."""
        return str(
            translation_fingerprint(
                [self.localized(field, language) for field in REVIEWED_GUIDE_TEXT],
                [
                    [
                        getattr(section, build_localized_fieldname(field, language)) or ""
                        for field in REVIEWED_SECTION_TEXT
                    ]
                    for section in self.sections.all()
                ],
                [],
            )
        )

    @property
    def review_is_overdue(self) -> bool:
        return self.next_review_due is not None and self.next_review_due < timezone.localdate()


class GuideSection(models.Model):
    """One titled section of the guide; the page lists them in a table of contents."""

    guide = models.ForeignKey(TravelGuide, on_delete=models.CASCADE, related_name="sections")
    anchor = models.SlugField(
        _("anchor"), max_length=60, help_text=_("The section's address on the page, e.g. “visas” for #visas.")
    )
    heading = models.CharField(_("heading"), max_length=200)
    body = models.TextField(
        _("text"),
        help_text=_(
            "Paragraphs separated by a blank line. A paragraph whose lines all start with “- ” is a list."
        ),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["guide", "anchor"], name="unique_guide_section_anchor")
        ]
        verbose_name = _("section")
        verbose_name_plural = _("sections")

    def __str__(self) -> str:
        return self.heading

    def clean(self) -> None:
        if self.anchor in RESERVED_ANCHORS:
            raise ValidationError({"anchor": _("This address is taken by the page itself: choose another.")})

    def blocks(self) -> list[tuple[str, list[str]]]:
        """The body as ("p", [paragraph]) and ("ul", [entries]) blocks, in order."""
        blocks: list[tuple[str, list[str]]] = []
        for chunk in self.body.replace("\r\n", "\n").split("\n\n"):
            lines = [line.strip() for line in chunk.strip().splitlines() if line.strip()]
            if not lines:
                continue
            if all(line.startswith("- ") for line in lines):
                blocks.append(("ul", [line[2:].strip() for line in lines]))
            else:
                blocks.append(("p", [" ".join(lines)]))
        return blocks


class GuideTranslationReview(TranslationReviewBase):
    """A medical reviewer has checked the guide's translation into one language."""

    subject_field = "guide"

    guide = models.ForeignKey(TravelGuide, on_delete=models.CASCADE, related_name="translation_reviews")

    class Meta(TranslationReviewBase.Meta):
        constraints = [
            models.UniqueConstraint(fields=["guide", "language"], name="unique_guide_translation_review")
        ]
