import datetime
import re
import unicodedata
from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Self

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.boundfield import BoundField
from django.forms.models import ModelChoiceIterator
from django.forms.renderers import BaseRenderer
from django.utils import timezone
from django.utils.choices import CallableChoiceIterator
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from modeltranslation.utils import build_localized_fieldname
from phonenumber_field.phonenumber import to_python as parse_phone_number

from clinics.models import Clinic
from conditions.models import Condition
from inquiries.models import (
    PATIENT_FIELDS,
    STAFF_CLOSING_REASONS,
    ContactChannel,
    HeldUpload,
    InquiryStatus,
    PatientRelation,
    SymptomDuration,
    allowed_moves,
)
from inquiries.uploads import MAX_ATTACHMENTS, clean_upload

if TYPE_CHECKING:
    from inquiries.models import Inquiry
    from inquiries.uploads import CleanUpload

MAX_PREFERRED_CLINICS = 3
# The stand-alone request page offers at most this many clinics found by name, and as many of the best
# matches of the chosen condition, and lists at most CLINICS_LISTED in all (the chosen ones first): the
# page stays small however many clinics are published.
CLINICS_OFFERED = 8
CLINICS_LISTED = 12
CHOOSE = [("", _("Choose…"))]
# Django's own message reads "Enter an email address." in some languages, though one was entered.
INVALID_EMAIL_ADDRESS = _("This is not a valid email address. Check it, e.g. name@example.com.")
CONSENT_HEALTH_DATA = _(
    "I agree that Clinic Portal may process the health information in this request, including my "
    "medical records, to answer it, and may share it with the clinics I choose. I can withdraw this "
    "consent at any time."
)
CONSENT_SHARE_WITH_CLINICS = _(
    "I agree that my name and contact details may be shared with the clinics the coordinator sends my "
    "case to (optional). Without this, clinics see my case without my name and contact details."
)


def _is_control(character: str, allowed: str = "") -> bool:
    # Cc: control characters; Cf: invisible format characters (bidi overrides); Zl/Zp: line breaks.
    return character not in allowed and unicodedata.category(character) in {"Cc", "Cf", "Zl", "Zp"}


def single_line(value: str) -> None:
    """Names and handles go into emails and headers: one line, no control or bidi-override characters.

    Zero-width joiners (U+200C, U+200D) stay: Persian, Indic and emoji spellings need them.
    """
    if any(_is_control(character, allowed="\u200c\u200d") for character in value):
        raise ValidationError(
            _("Write this on a single line, without line breaks or special control characters."),
            code="control_characters",
        )


def free_text(value: str) -> None:
    if any(_is_control(character, allowed="\n\r\t\u200c\u200d") for character in value):
        raise ValidationError(
            _("Remove the special control characters from this text."), code="control_characters"
        )


class SingleLineField(forms.CharField):
    default_validators = [single_line]


class FreeTextField(forms.CharField):
    default_validators = [free_text]

    def __init__(self, *, rows: int, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": rows}))
        super().__init__(**kwargs)


def _too_many_files() -> str:
    return ngettext(
        "You can attach at most %(limit)d file.", "You can attach at most %(limit)d files.", MAX_ATTACHMENTS
    ) % {"limit": MAX_ATTACHMENTS}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Up to five files; each is checked by content and images are re-encoded (see uploads.py)."""

    widget = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.widget.attrs.setdefault("accept", ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png")

    def clean(self, data: Any, initial: Any = None) -> "list[CleanUpload]":
        # The files that passed, even when others did not: the form holds them for the next try.
        self.accepted: list[CleanUpload] = []
        files = [upload for upload in (data or []) if upload]
        if len(files) > MAX_ATTACHMENTS:
            raise ValidationError(_too_many_files(), code="too_many")
        errors: list[ValidationError] = []
        cleaned: list[CleanUpload] = []
        for upload in files:
            try:
                cleaned.append(clean_upload(upload))
            except ValidationError as error:
                errors.extend(error.error_list)
        self.accepted = cleaned
        if errors:
            raise ValidationError(errors)
        return cleaned


class HeldUploadsForm(forms.Form):
    """A form with medical records whose valid files survive a validation error.

    After a failed try the view holds the accepted files against the form's submission key
    (``inquiries.services.uploads_hold``); the next try lists them by name and size, lets the
    patient remove any, and counts them with the newly chosen ones.
    """

    submission_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reload_held()

    def reload_held(self) -> None:
        """Read the files held for this form's submission key (again, once the view has held more)."""
        self.held: list[HeldUpload] = []
        if self.is_bound:
            try:
                key = self.fields["submission_key"].clean(self.data.get("submission_key"))
            except ValidationError:
                key = None
            if key:
                self.held = list(HeldUpload.objects.unexpired().filter(submission_key=key))

    def _posted(self, name: str) -> set[str]:
        # Lists of ids the page posts back; unknown ids (expired, already removed) are ignored.
        return set(self.data.getlist(name)) if self.is_bound and hasattr(self.data, "getlist") else set()

    @property
    def kept_held(self) -> list[HeldUpload]:
        removed = self._posted("remove_held")
        return [held for held in self.held if str(held.pk) not in removed]

    @property
    def removed_held(self) -> list[HeldUpload]:
        kept = set(self.kept_held)
        return [held for held in self.held if held not in kept]

    def accepted_new_uploads(self) -> "list[CleanUpload]":
        """Valid newly chosen files, whatever else failed."""
        if "attachments" in getattr(self, "cleaned_data", {}):
            return self.cleaned_data["attachments"]  # type: ignore[no-any-return]
        return getattr(self.fields["attachments"], "accepted", [])

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        expired = self._posted("held") - self._posted("remove_held") - {str(held.pk) for held in self.held}
        if expired:
            self.add_error(
                "attachments",
                ngettext(
                    "%(count)d file from your last try is no longer kept. Please attach it again.",
                    "%(count)d files from your last try are no longer kept. Please attach them again.",
                    len(expired),
                )
                % {"count": len(expired)},
            )
        new = cleaned.get("attachments") or []  # type: ignore[union-attr]
        if len(self.kept_held) + len(new) > MAX_ATTACHMENTS:
            self.add_error("attachments", _too_many_files())
        return cleaned


# The messengers most used by readers of each language, listed first after email and phone (the
# others follow in their usual order, so that every channel can still be chosen).
MESSENGERS_FIRST = {
    "en": [ContactChannel.WHATSAPP],
    "ko": [ContactChannel.KAKAOTALK],
    "ja": [ContactChannel.LINE],
    "zh-hans": [ContactChannel.WECHAT],
    "ru": [ContactChannel.TELEGRAM, ContactChannel.WHATSAPP, ContactChannel.VIBER],
    "ar": [ContactChannel.WHATSAPP, ContactChannel.TELEGRAM],
    "mn": [ContactChannel.VIBER, ContactChannel.KAKAOTALK, ContactChannel.WHATSAPP],
    "vi": [ContactChannel.ZALO, ContactChannel.VIBER],
}


def contact_channel_choices(language: str) -> list[tuple[str, str | Promise]]:
    """The contact channels for a reader of this language: email, phone, the messengers they most
    likely use, then the others."""
    first = [ContactChannel.EMAIL, ContactChannel.PHONE, *MESSENGERS_FIRST.get(language, [])]
    rest = [channel for channel in ContactChannel if channel not in first]
    return [*CHOOSE, *((channel.value, channel.label) for channel in (*first, *rest))]


_country_choices_by_language: dict[str, list[tuple[str, str | Promise]]] = {}


def country_choices() -> list[tuple[str, str | Promise]]:
    """Country names in the active language, sorted in it: built once per language and process."""
    language = get_language() or settings.LANGUAGE_CODE
    if language not in _country_choices_by_language:
        _country_choices_by_language[language] = [*CHOOSE, *countries]
    return _country_choices_by_language[language]


class CountrySelect(forms.Select):
    """The country list, rendered once per language and attributes; a chosen country is marked in a copy.

    Rendering 250 options through the form templates took milliseconds on every page with the form.
    The optional ``</option>`` end tags and the blank lines between options are left out: in Cyrillic
    they alone were a tenth of the page.
    """

    _rendered: ClassVar[dict[tuple[object, ...], str]] = {}

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: BaseRenderer | None = None
    ) -> SafeString:
        key = (get_language(), name, tuple(sorted(self.build_attrs(self.attrs, attrs).items())))
        if key not in self._rendered:
            html = str(super().render(name, "", attrs, renderer))
            self._rendered[key] = re.sub(r"</option>\s*|(?<=>)\s+(?=<)", "", html)
        html = self._rendered[key]
        chosen = next(iter(self.format_value(value)), "")
        if chosen:
            code = escape(chosen)
            html = html.replace('<option value="" selected>', '<option value="">', 1).replace(
                f'<option value="{code}">', f'<option value="{code}" selected>', 1
            )
        return mark_safe(html)  # noqa: S308 (the widget's own rendering, a code escaped)


class FieldGroupReused(BoundField):
    """A field of a form not yet sent, rendered (label, help text, widget) once and reused.

    Rendering a field group through Django's form templates costs most of a millisecond, and the
    request form on every condition and clinic page has twenty of them whose markup depends on little
    but the language. The key holds everything the markup is made of: the language, the field's
    label, help text, attributes, value and, for a list, its choices. Values given to this form that
    are not among its choices (typed by a visitor), choices that are a query each time they are read,
    and forms sent back with their errors are rendered anew.
    """

    _rendered: ClassVar[dict[tuple[object, ...], SafeString]] = {}
    # A bound on what a process keeps: old lists of choices are not looked for and removed.
    MOST_KEPT = 2_000

    def as_field_group(self) -> SafeString:
        key = self._reuse_key()
        if key is None:
            return super().as_field_group()
        html = self._rendered.get(key)
        if html is None:
            html = super().as_field_group()
            if len(self._rendered) < self.MOST_KEPT:
                self._rendered[key] = html
        return html

    def _reuse_key(self) -> tuple[object, ...] | None:
        form, field = self.form, self.field
        choices = getattr(field, "choices", None)
        if form.is_bound or isinstance(choices, ModelChoiceIterator):
            return None
        value = self.value()
        values = tuple(value) if isinstance(value, list | tuple) else (value,)
        if not all(item is None or isinstance(item, str | int) for item in values):
            return None
        # A list a function gives is keyed as it gives it: normalizing the 250 countries on every
        # rendering would cost more than reusing the markup saves.
        options = tuple(choices.func() if isinstance(choices, CallableChoiceIterator) else choices or ())
        given = form.initial.get(self.name)
        if given not in (None, "", []) and not {str(item) for item in values} <= {str(v) for v, _ in options}:
            return None
        key = (
            type(form),
            get_language(),
            form.prefix,
            form.auto_id,
            form.label_suffix,
            form.use_required_attribute,
            self.name,
            values,
            options,
            field.required,
            field.disabled,
            str(field.label),
            str(field.help_text),
            repr(sorted(field.widget.attrs.items())),
        )
        try:
            hash(key)
        except TypeError:  # grouped choices are lists
            return None
        return key


class ClinicChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """Published clinics named by their slugs, at most MAX_PREFERRED_CLINICS.

    Any published clinic is accepted, looked up by the slugs sent (too many are refused before any
    lookup); the form renders only the clinics it offers (``InquiryForm.offered_clinics``).
    """

    def _check_values(self, value: Iterable[str]) -> "QuerySet[Clinic]":
        if len(set(value)) > MAX_PREFERRED_CLINICS:
            raise ValidationError(gettext("Choose at most three clinics."), code="too_many")
        return super()._check_values(value)  # type: ignore[misc, no-any-return]  # not in the stubs


class InquiryForm(HeldUploadsForm):
    bound_field_class = FieldGroupReused

    full_name = SingleLineField(label=_("Full name"), max_length=200)
    email = forms.EmailField(
        label=_("Email"), max_length=254, error_messages={"invalid": INVALID_EMAIL_ADDRESS}
    )
    phone = SingleLineField(
        label=_("Phone"),
        required=False,
        max_length=40,
        help_text=_("With the country code (+…), or a local number from your country of residence."),
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "placeholder": "+82 2 3410 1000"}
        ),
    )
    contact_channel = forms.ChoiceField(
        label=_("How should we contact you?"), choices=lambda: contact_channel_choices(get_language())
    )
    contact_handle = SingleLineField(
        label=_("Your ID or number on that app"),
        max_length=120,
        required=False,
        help_text=_("For WhatsApp, KakaoTalk, WeChat, LINE or Telegram."),
    )
    country = forms.TypedChoiceField(
        label=_("Country of residence"), choices=country_choices, widget=CountrySelect
    )
    language = forms.ChoiceField(label=_("Language for our replies"), choices=settings.LANGUAGES)
    patient_relation = forms.ChoiceField(
        label=_("Who is the patient?"), choices=CHOOSE + PatientRelation.choices
    )
    patient_age = forms.IntegerField(
        label=_("Patient's age"),
        min_value=0,
        max_value=120,
        error_messages={
            "min_value": _("Enter an age from 0 to 120."),
            "max_value": _("Enter an age from 0 to 120."),
        },
    )
    condition = forms.ModelChoiceField(
        label=_("Condition"),
        queryset=Condition.objects.published(),
        to_field_name="slug",
        required=False,
        empty_label=_("Not sure / other"),
    )
    symptom_duration = forms.ChoiceField(
        label=_("How long have the symptoms lasted?"), choices=CHOOSE + SymptomDuration.choices
    )
    diagnosis = FreeTextField(label=_("Current diagnosis, if any"), rows=3, required=False, max_length=4000)
    medications = FreeTextField(label=_("Current medications"), rows=3, required=False, max_length=4000)
    message = FreeTextField(label=_("Your question or message"), rows=6, max_length=8000)
    clinic_search = forms.CharField(
        label=_("Find a clinic by name"),
        required=False,
        max_length=100,
        help_text=_(
            "Type part of a clinic's name, or choose the condition above, then press “Find clinics”."
        ),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    preferred_clinics = ClinicChoiceField(
        label=_("Preferred clinics (up to three)"),
        queryset=Clinic.objects.published(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    travel_from = forms.DateField(
        label=_("Could travel from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    travel_until = forms.DateField(
        label=_("Could travel until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    attachments = AttachmentsField(
        label=_("Medical records"),
        help_text=_("Up to 5 files, PDF, JPEG or PNG, at most 10 MB each."),
    )
    consent_health_data = forms.BooleanField(
        label=CONSENT_HEALTH_DATA,
        error_messages={
            "required": _("We can only answer if you agree to the processing of your health information.")
        },
    )
    consent_share = forms.BooleanField(label=CONSENT_SHARE_WITH_CLINICS, required=False)
    consent_news = forms.BooleanField(
        label=_("Send me occasional news from Clinic Portal (optional)."), required=False
    )
    # A field people never see; bots fill it in.
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    def __init__(
        self,
        *args: Any,
        condition: Condition | None = None,
        clinics: Iterable[Clinic] | None = None,
        **kwargs: Any,
    ) -> None:
        """``clinics``: the clinics to offer (a condition or clinic page's own); without them the form
        offers the clinics already chosen, those found by name and the best matches of the condition."""
        super().__init__(*args, **kwargs)
        self.fields["language"].initial = get_language()
        self.condition = condition  # type: ignore[assignment]  # the field is in self.fields
        self.clinics = clinics
        # Read when the lists are rendered: a form that is sent and stored never looks them up.
        self.fields["preferred_clinics"].choices = lambda: [  # type: ignore[attr-defined]
            (clinic.slug, clinic.name) for clinic in self.offered_clinics
        ]
        self.fields["condition"].choices = lambda: self.condition_choices  # type: ignore[attr-defined]
        if condition is not None:
            self.fields["condition"].initial = condition.slug
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["country"].widget.attrs["autocomplete"] = "country"
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website"))

    @cached_property
    def condition_choices(self) -> list[tuple[str, str | Promise]]:
        """The published conditions by name, read once: their slugs and names, not each one's whole
        page in eight languages."""
        names = [build_localized_fieldname("name", code) for code, _name in settings.LANGUAGES]
        field: forms.ModelChoiceField[Condition] = self.fields["condition"]  # type: ignore[assignment]
        blank: list[tuple[str, str | Promise]] = (
            [] if field.empty_label is None else [("", field.empty_label)]
        )
        return blank + [
            (condition.slug, field.label_from_instance(condition))
            for condition in field.queryset.only("slug", *names)  # type: ignore[union-attr]
        ]

    @property
    def offers_clinic_search(self) -> bool:
        return self.clinics is None

    @cached_property
    def offered_clinics(self) -> list[Clinic]:
        """The clinics the form lists: the chosen ones, then those found by name, then the best matches
        of the chosen condition; a bounded number whatever the number of clinics."""
        if self.clinics is not None:
            return list(self.clinics)
        published = Clinic.objects.published()
        chosen = [slug for slug in self._current("preferred_clinics") or [] if slug][:CLINICS_OFFERED]
        offered = list(published.filter(slug__in=chosen).order_by_name()) if chosen else []
        query = (self._current("clinic_search") or "").strip()[:100]
        if query:
            offered += published.search(query).ranked_by_search(query)[0:CLINICS_OFFERED]
        if condition := self._chosen_condition():
            offered += published.for_condition(condition).prefetch_related(None)[0:CLINICS_OFFERED]
        return list({clinic.pk: clinic for clinic in offered}.values())[:CLINICS_LISTED]

    def _current(self, name: str) -> Any:
        """A field's value as the page shows it: as sent, or as initially given."""
        field = self.fields[name]
        if self.is_bound:
            return field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
        return self.get_initial_for_field(field, name)

    def _chosen_condition(self) -> Condition | None:
        if "condition" in getattr(self, "cleaned_data", {}):
            return self.cleaned_data["condition"]  # type: ignore[no-any-return]
        if self.condition is not None and not self.is_bound:
            return self.condition  # type: ignore[return-value]
        slug = self._current("condition")
        return Condition.objects.published().filter(slug=slug).first() if slug else None

    def unbound_copy(self) -> Self:
        """This form as typed (its files held), without errors: for a page that shows no errors yet."""
        initial = {
            name: self._current(name)
            for name, field in self.fields.items()
            if not isinstance(field, forms.FileField)
        }
        copy = type(self)(initial=initial)
        copy.held = self.kept_held
        return copy

    def clean_travel_from(self) -> datetime.date | None:
        travel_from: datetime.date | None = self.cleaned_data["travel_from"]
        if travel_from and travel_from < timezone.localdate():
            raise ValidationError(gettext("Choose a date in the future."), code="past")
        return travel_from

    def clean(self) -> dict[str, Any] | None:
        cleaned: dict[str, Any] = super().clean()  # type: ignore[assignment]  # Form.clean gives cleaned_data
        self._clean_phone_in_country(cleaned)
        channel = cleaned.get("contact_channel")
        if channel == ContactChannel.PHONE and not cleaned.get("phone") and "phone" not in self.errors:
            self.add_error("phone", gettext("Enter a phone number so that we can call you."))
        if channel not in {None, "", ContactChannel.EMAIL, ContactChannel.PHONE} and not (
            cleaned.get("contact_handle") or cleaned.get("phone")
        ):
            self.add_error("contact_handle", gettext("Enter your ID or number on that app."))
        travel_from, travel_until = cleaned.get("travel_from"), cleaned.get("travel_until")
        if travel_from and travel_until and travel_until < travel_from:
            self.add_error("travel_until", gettext("This date must be after the first one."))
        condition, clinics = cleaned.get("condition"), cleaned.get("preferred_clinics")
        if cleaned.get("clinic_search") and not clinics and "preferred_clinics" not in self.errors:
            self.add_error(
                "clinic_search", gettext("Tick the clinic you mean in the list below, or empty this box.")
            )
        if condition and clinics:
            matching = set(
                Clinic.objects.published()
                .treating(condition)
                .filter(pk__in=[c.pk for c in clinics])
                .values_list("pk", flat=True)
            )
            if any(clinic.pk not in matching for clinic in clinics):
                self.add_error(
                    "preferred_clinics", gettext("Choose clinics that treat the condition you selected.")
                )
        return cleaned

    def _clean_phone_in_country(self, cleaned: dict[str, Any]) -> None:
        """A local number ("8 912 345-67-89") is read as a number of the chosen country."""
        raw = cleaned.get("phone")
        if not raw:
            return
        country = cleaned.get("country") or None
        number = parse_phone_number(raw, region=country)
        if number is None or not number.is_valid():
            self.add_error(
                "phone",
                gettext(
                    "Enter a valid phone number: with the country code (+…), "
                    "or a local number from the country of residence you chose."
                ),
            )
            return
        cleaned["phone"] = number.as_e164

    def inquiry_data(self) -> dict[str, Any]:
        """The cleaned values that are stored on the inquiry itself."""
        fields = [*PATIENT_FIELDS, "consent_news"]
        data = {field: self.cleaned_data[field] for field in fields}
        data["phone"] = data["phone"] or ""
        return data


class ReplyForm(HeldUploadsForm):
    message = FreeTextField(label=_("Your reply"), rows=5, max_length=8000)
    attachments = AttachmentsField(
        label=_("Add medical records"),
        help_text=_("Up to 5 files, PDF, JPEG or PNG, at most 10 MB each."),
    )


class LostLinkForm(forms.Form):
    email = forms.EmailField(
        label=_("The email address you used"),
        max_length=254,
        error_messages={"invalid": INVALID_EMAIL_ADDRESS},
    )


class DeletionRequestForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, delete my request, my messages and my medical records."),
        error_messages={"required": _("Tick the box to confirm.")},
    )


class EmailCorrectionForm(forms.Form):
    email = forms.EmailField(
        label=_("Correct email address"), max_length=254, error_messages={"invalid": INVALID_EMAIL_ADDRESS}
    )
    reason = FreeTextField(
        label=_("Why it is corrected"),
        rows=3,
        max_length=1000,
        help_text=_("For example: the patient wrote from the new address and asked for the change."),
    )

    def __init__(self, *args: Any, inquiry: "Inquiry", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inquiry = inquiry

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"]
        if email.casefold() == self.inquiry.email.casefold():
            raise ValidationError(gettext("This is already the address of the request."), code="unchanged")
        return email


class CoordinatorResponseForm(forms.Form):
    """A coordinator's answer to an inquiry: a new status and/or a message."""

    status = forms.ChoiceField(label=_("Status"))
    message = FreeTextField(label=_("Message"), rows=8, required=False, max_length=8000)
    visibility = forms.ChoiceField(
        label=_("Who sees the message"),
        choices=[
            ("public", _("The patient (by email notice and on the follow-up page)")),
            ("internal", _("Coordinators only")),
        ],
        initial="public",
        widget=forms.RadioSelect,
    )
    closing_reason = forms.ChoiceField(
        label=_("Reason for closing"),
        choices=CHOOSE + STAFF_CLOSING_REASONS,
        required=False,
    )

    def __init__(self, *args: Any, inquiry: "Inquiry", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = InquiryStatus(inquiry.status)
        allowed = [current, *allowed_moves(current)]
        self.fields["status"].choices = [(status.value, status.label) for status in allowed]  # type: ignore[attr-defined]
        self.fields["status"].initial = current.value
        self.inquiry = inquiry

    def clean(self) -> dict[str, Any] | None:
        cleaned: dict[str, Any] = super().clean()  # type: ignore[assignment]  # Form.clean gives cleaned_data
        if not cleaned.get("message") and cleaned.get("status") == self.inquiry.status:
            raise ValidationError(gettext("Write a message or choose a new status."), code="empty")
        closing = cleaned.get("status") == InquiryStatus.CLOSED != self.inquiry.status
        if closing and not cleaned.get("closing_reason"):
            self.add_error("closing_reason", gettext("Choose why the request is closed."))
        return cleaned
