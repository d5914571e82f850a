import datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inquiries.forms import FreeTextField
from referrals.models import ClinicAnswer

if TYPE_CHECKING:
    from referrals.models import Referral

ANSWER_FIELDS = [
    "can_treat",
    "treatments",
    "plan",
    "doctor",
    "earliest_start",
    "stay_days",
    "price_min_krw",
    "price_max_krw",
    "included",
    "valid_until",
    "text_language",
]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class ClinicAnswerForm(forms.ModelForm):  # type: ignore[type-arg]
    """A clinic's answer to the case shared with it: only its own treatments and doctors to choose from."""

    class Meta:
        model = ClinicAnswer
        fields = ANSWER_FIELDS
        widgets = {
            "can_treat": forms.RadioSelect,
            "treatments": forms.CheckboxSelectMultiple,
            "plan": forms.Textarea(attrs={"rows": 6, "dir": "auto"}),
            "included": forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
            "earliest_start": DateInput,
            "valid_until": DateInput,
        }
        help_texts = {
            "treatments": _("Choose from the treatments your clinic offers; describe the plan below."),
            "price_min_krw": _("An estimate in Korean won; leave empty if you cannot estimate yet."),
            "text_language": _("The patient sees your texts as you wrote them, labelled with this language."),
        }

    def __init__(self, *args: Any, referral: "Referral", **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        if kwargs.get("instance") is None:
            kwargs["instance"] = ClinicAnswer(referral=referral)
            kwargs["initial"].setdefault("text_language", referral.clinic.contact_language)
        super().__init__(*args, **kwargs)
        clinic = referral.clinic
        self.fields["can_treat"].choices = ClinicAnswer._meta.get_field("can_treat").choices  # type: ignore[attr-defined]
        self.fields["treatments"].queryset = clinic.treatments.order_by("pk")  # type: ignore[attr-defined]
        self.fields["doctor"].queryset = clinic.doctors.all()  # type: ignore[attr-defined]
        self.fields["doctor"].empty_label = _("Not decided yet")  # type: ignore[attr-defined]
        for name in ("stay_days", "price_min_krw", "price_max_krw"):
            self.fields[name].widget.attrs.update({"min": 0, "inputmode": "numeric"})

    def clean_earliest_start(self) -> datetime.date | None:
        return _not_in_the_past(self.cleaned_data["earliest_start"])

    def clean_valid_until(self) -> datetime.date | None:
        return _not_in_the_past(self.cleaned_data["valid_until"])

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        lowest, highest = cleaned.get("price_min_krw"), cleaned.get("price_max_krw")  # type: ignore[union-attr]
        if lowest is not None and highest is not None and lowest > highest:
            self.add_error(
                "price_max_krw",
                forms.ValidationError(
                    _("The highest price must not be lower than the lowest price."), code="price_range"
                ),
            )
        return cleaned

    def answer_data(self) -> dict[str, Any]:
        """The answer's fields, for ``referrals.services.answer_submit``."""
        return {name: self.cleaned_data[name] for name in ANSWER_FIELDS}


def _not_in_the_past(day: datetime.date | None) -> datetime.date | None:
    if day is not None and day < timezone.localdate():
        raise forms.ValidationError(_("Please choose today or a later date."), code="past")
    return day


class OfferChoice(models.TextChoices):
    PREFER = "prefer", _("I prefer this offer")
    QUESTION = "question", _("I have a question about this offer")


class OfferResponseForm(forms.Form):
    """The patient's word on one clinic's published offer: a preference, or a question about it."""

    submission_key = forms.UUIDField(widget=forms.HiddenInput)
    choice = forms.ChoiceField(
        label=_("Tell your coordinator"), choices=OfferChoice.choices, widget=forms.RadioSelect
    )
    message = FreeTextField(
        label=_("Your message"),
        rows=3,
        required=False,
        max_length=4000,
        help_text=_("Optional with a preference; needed for a question."),
    )

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if cleaned.get("choice") == OfferChoice.QUESTION and not cleaned.get("message"):  # type: ignore[union-attr]
            self.add_error("message", gettext("Write your question about this offer."))
        return cleaned
