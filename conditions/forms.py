from typing import TYPE_CHECKING, Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from conditions.models import Condition


class ConditionSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search conditions"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("e.g. clonus, stiffness, stroke")}),
    )


class ConditionPublishForm(forms.Form):
    """The medical reviewer's sign-off: recorded on the page when it is published."""

    reviewer_name = forms.CharField(label=_("Medical reviewer"), max_length=160)
    reviewer_credentials = forms.CharField(
        label=_("Credentials"),
        max_length=200,
        help_text=_("As shown to readers, e.g. “Neurologist, MD, PhD”."),
    )
    reviewed_on = forms.DateField(label=_("Reviewed on"), widget=forms.DateInput(attrs={"type": "date"}))
    next_review_due = forms.DateField(
        label=_("Next review due"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, condition: "Condition", **kwargs: Any) -> None:
        self.condition = condition
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        reviewed_on, next_due = cleaned.get("reviewed_on"), cleaned.get("next_review_due")  # type: ignore[union-attr]
        if reviewed_on and reviewed_on > timezone.localdate():
            self.add_error("reviewed_on", _("The review date cannot be in the future."))
        if reviewed_on and next_due and next_due <= reviewed_on:
            self.add_error("next_review_due", _("The next review must come after the last review."))
        return cleaned


class TranslationReviewForm(forms.Form):
    reviewer_name = forms.CharField(label=_("Checked by"), max_length=160)
