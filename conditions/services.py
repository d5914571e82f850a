"""The editorial workflow of a condition page, and the review of its translations."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from modeltranslation.utils import build_localized_fieldname

from conditions.models import Condition, ConditionStatus, TranslationReviewBase

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import Manager

    class ReviewedSubject(Protocol):
        """A ``ReviewedTranslationsMixin`` model, as the review reads it."""

        @property
        def translation_reviews(self) -> Manager[TranslationReviewBase]: ...

        def translation_fingerprint(self, language: str) -> str: ...


def condition_submit_for_review(*, condition: Condition) -> None:
    """A draft goes to medical review."""
    if condition.status != ConditionStatus.DRAFT:
        raise ValidationError(_("Only a draft can be sent to medical review."))
    condition.status = ConditionStatus.IN_REVIEW
    condition.save(update_fields=["status"])


@transaction.atomic
def condition_publish(
    *,
    condition: Condition,
    reviewer_name: str,
    reviewer_credentials: str,
    reviewed_on: datetime.date,
    next_review_due: datetime.date,
) -> None:
    """The medical reviewer signs the page off: it goes (or stays) online with their name, credentials
    and dates. Refused, with nothing saved, when the page breaks a publication rule."""
    if condition.status == ConditionStatus.PUBLISHED:
        raise ValidationError(_("This condition is already published."))
    # The reviewer line in English, whatever language the reviewer works in (its translations are
    # edited like any other text).
    default = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
    setattr(condition, build_localized_fieldname("reviewer_name", default), reviewer_name)
    setattr(condition, build_localized_fieldname("reviewer_credentials", default), reviewer_credentials)
    condition.last_reviewed = reviewed_on
    condition.next_review_due = next_review_due
    condition.status = ConditionStatus.PUBLISHED
    condition.full_clean(exclude=["slug"])
    condition.save()


def condition_withdraw(*, condition: Condition) -> None:
    """The page leaves the site and becomes a draft again."""
    condition.status = ConditionStatus.DRAFT
    condition.save(update_fields=["status"])


def condition_content_edited(*, condition: Condition) -> bool:
    """A published page whose content was edited goes back to medical review; it stays online, marked
    as changed since its review, until the reviewer publishes it again. Returns whether it did."""
    if condition.status != ConditionStatus.PUBLISHED:
        return False
    condition.status = ConditionStatus.IN_REVIEW
    condition.save(update_fields=["status"])
    return True


def translation_review_save(
    *,
    subject: ReviewedSubject,
    language: str,
    reviewer_name: str,
    user: User | None = None,
    reviewed_on: datetime.date | None = None,
) -> TranslationReviewBase:
    """A reviewer vouches for this language's texts of ``subject`` as they are now. ``subject`` is a
    ``ReviewedTranslationsMixin`` model loaded with the content its fingerprint reads."""
    review_model = subject.translation_reviews.model
    review: TranslationReviewBase
    # The abstract base declares no manager; each concrete review model has its own.
    review, _created = review_model.objects.update_or_create(  # type: ignore[attr-defined]
        **{review_model.subject_field: subject},
        language=language,
        defaults={
            "reviewer_name": reviewer_name,
            "reviewed_on": reviewed_on or timezone.localdate(),
            "reviewed_by": user,
            "fingerprint": subject.translation_fingerprint(language),
        },
    )
    return review


def translation_review_record(
    *,
    condition: Condition,
    language: str,
    reviewer_name: str,
    user: User | None = None,
    reviewed_on: datetime.date | None = None,
) -> TranslationReviewBase:
    """A reviewer vouches for this language's texts of the condition as they are now."""
    return translation_review_save(
        subject=Condition.objects.with_page_content().get(pk=condition.pk),
        language=language,
        reviewer_name=reviewer_name,
        user=user,
        reviewed_on=reviewed_on,
    )
