"""The workspace's action forms. Each carries the inquiry's version, so a form built before another
coordinator's change is refused instead of overwriting it."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inquiries.forms import FreeTextField
from inquiries.models import STAFF_CLOSING_REASONS, InquiryStatus, allowed_moves
from staff.models import languages_of
from staff.roles import coordinators


class VersionedForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, inquiry, **kwargs):
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = InquiryStatus(self.inquiry.status)
        self.fields["status"].choices = [(status.value, status.label) for status in allowed_moves(current)]
        self.fields["closing_reason"].choices = [("", _("Choose…")), *STAFF_CLOSING_REASONS]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") == InquiryStatus.CLOSED and not cleaned.get("closing_reason"):
            self.add_error("closing_reason", gettext("Choose why the request is closed."))
        return cleaned


def coordinators_for(language):
    """Active coordinators, those who answer in this language first."""
    return sorted(coordinators(), key=lambda user: language not in languages_of(user))


class AssignForm(VersionedForm):
    assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("Nobody"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.may_assign_others = user.has_perm("inquiries.assign_inquiry")
        if self.may_assign_others:
            candidates = coordinators_for(self.inquiry.language)
            ids = [candidate.pk for candidate in candidates]
        else:
            # A coordinator takes an inquiry (or gives back their own); leads assign to others.
            ids = [user.pk]
        self.fields["assignee"].queryset = get_user_model().objects.filter(Q(pk__in=ids))
        self.fields["assignee"].label_from_instance = lambda candidate: _label(
            candidate, self.inquiry.language
        )

    def clean_assignee(self):
        assignee = self.cleaned_data["assignee"]
        current = self.inquiry.assigned_to
        if not self.may_assign_others and current not in (None, self.user):
            raise forms.ValidationError(
                gettext("Only a lead can reassign an inquiry that someone else holds.")
            )
        return assignee


def _label(user, language):
    languages = languages_of(user)
    marker = " ★" if language in languages else ""
    return f"{user.get_username()}{marker} ({', '.join(languages) or '—'})"
