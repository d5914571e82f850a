"""The workspace's action forms. Each carries the inquiry's version, so a form built before another
coordinator's change is refused instead of overwriting it."""

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinics.models import Clinic
from inquiries.forms import FreeTextField
from inquiries.models import STAFF_CLOSING_REASONS, Attachment, InquiryStatus, allowed_moves
from staff.models import languages_of
from staff.roles import coordinators

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from inquiries.models import Inquiry
    from referrals.models import ClinicAnswer, Referral
    from workspace.sharing import Candidate


class VersionedForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, inquiry: "Inquiry", **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("version", inquiry.version)
        super().__init__(*args, **kwargs)
        self.inquiry = inquiry


class ReplyForm(VersionedForm):
    message = FreeTextField(label=_("Reply to the patient"), rows=8, max_length=8000)


class NoteForm(VersionedForm):
    note = FreeTextField(label=_("Internal note (never shown to the patient)"), rows=3, max_length=4000)


class StatusForm(VersionedForm):
    status = forms.ChoiceField(label=_("New status"))
    closing_reason = forms.ChoiceField(label=_("Reason for closing"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = InquiryStatus(self.inquiry.status)
        self.fields["status"].choices = [(status.value, status.label) for status in allowed_moves(current)]  # type: ignore[attr-defined]
        self.fields["closing_reason"].choices = [("", _("Choose…")), *STAFF_CLOSING_REASONS]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if cleaned.get("status") == InquiryStatus.CLOSED and not cleaned.get("closing_reason"):  # type: ignore[union-attr]
            self.add_error("closing_reason", gettext("Choose why the request is closed."))
        return cleaned


def coordinators_for(language: str) -> "list[User]":
    """Active coordinators, those who answer in this language first."""
    return sorted(coordinators(), key=lambda user: language not in languages_of(user))


class AssignForm(VersionedForm):
    assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("Nobody"),
    )

    def __init__(self, *args: Any, user: "User", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.may_assign_others = user.has_perm("inquiries.assign_inquiry")
        if self.may_assign_others:
            candidates = coordinators_for(self.inquiry.language)
            ids = [candidate.pk for candidate in candidates]
        else:
            # A coordinator takes an inquiry (or gives back their own); leads assign to others.
            ids = [user.pk]
        self.fields["assignee"].queryset = get_user_model().objects.filter(Q(pk__in=ids))  # type: ignore[attr-defined]
        self.fields["assignee"].label_from_instance = lambda candidate: _label(  # type: ignore[attr-defined]
            candidate, self.inquiry.language
        )

    def clean_assignee(self) -> "User | None":
        assignee: User | None = self.cleaned_data["assignee"]
        current = self.inquiry.assigned_to
        if not self.may_assign_others and current not in (None, self.user):
            raise forms.ValidationError(
                gettext("Only a lead can reassign an inquiry that someone else holds.")
            )
        return assignee


def _label(user: "User", language: str) -> str:
    languages = languages_of(user)
    marker = " ★" if language in languages else ""
    return f"{user.get_username()}{marker} ({', '.join(languages) or '—'})"


class ShareForm(VersionedForm):
    """Clinics to share the case with, the files that travel with it, a note to the clinics."""

    clinics: "forms.ModelMultipleChoiceField[Clinic]" = forms.ModelMultipleChoiceField(
        label=_("Clinics"),
        queryset=Clinic.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one clinic to share the case with."),
            "invalid_choice": _("Choose clinics from the list."),
            "invalid_pk_value": _("Choose clinics from the list."),
        },
    )
    attachments = forms.ModelMultipleChoiceField(
        label=_("Medical records to share"),
        queryset=Attachment.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Only the files you tick are shared."),
        error_messages={
            "invalid_choice": _("Choose files of this inquiry."),
            "invalid_pk_value": _("Choose files of this inquiry."),
        },
    )
    note = FreeTextField(label=_("Note to the clinics (optional)"), rows=4, max_length=4000, required=False)

    def __init__(self, *args: Any, candidates: "list[Candidate]", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = candidates
        self.fields["clinics"].queryset = Clinic.objects.filter(  # type: ignore[attr-defined]
            pk__in=[candidate.clinic.pk for candidate in candidates]
        ).order_by_name()
        self.fields["attachments"].queryset = self.inquiry.attachments.all()  # type: ignore[attr-defined]
        ticked = {str(value) for value in (self["clinics"].value() or [])}
        for candidate in candidates:
            candidate.ticked = str(candidate.clinic.pk) in ticked

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if self.inquiry.status == InquiryStatus.CLOSED:
            raise forms.ValidationError(gettext("This inquiry is closed: reopen it before sharing it."))
        return cleaned

    def clean_clinics(self) -> "QuerySet[Clinic]":
        clinics: QuerySet[Clinic] = self.cleaned_data["clinics"]
        problems = {candidate.clinic.pk: candidate.problem for candidate in self.candidates}
        refused = [clinic for clinic in clinics if problems.get(clinic.pk)]
        if refused:
            raise forms.ValidationError(
                [
                    gettext("%(clinic)s cannot receive the case: %(reason)s")
                    % {"clinic": clinic.name, "reason": problems[clinic.pk]}
                    for clinic in refused
                ]
            )
        return clinics


class RevokeForm(VersionedForm):
    pass


class PublishForm(VersionedForm):
    """Publish a clinic's answer to the patient, with an optional note from the coordinator."""

    note = FreeTextField(label=_("Note to the patient (optional)"), rows=3, max_length=4000, required=False)
    # The answer as the coordinator read it: a revision by the clinic since then is not published unread.
    revision = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, referral: "Referral", **kwargs: Any) -> None:
        self.referral = referral
        self.answer: ClinicAnswer | None = getattr(referral, "answer", None)
        kwargs.setdefault("initial", {}).setdefault("revision", answer_revision(self.answer))
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if self.answer is None:
            raise forms.ValidationError(gettext("The clinic has not answered yet."))
        if self.answer.is_published:
            raise forms.ValidationError(gettext("This answer is published already."))
        if cleaned.get("revision") != answer_revision(self.answer):  # type: ignore[union-attr]
            raise forms.ValidationError(
                gettext(
                    "The clinic revised its answer after you opened this page. "
                    "Read it again before publishing."
                )
            )
        return cleaned


def answer_revision(answer: "ClinicAnswer | None") -> str:
    if answer is None:
        return ""
    return (answer.revised_at or answer.answered_at).isoformat()
