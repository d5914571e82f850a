from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.template.defaultfilters import filesizeformat
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy
from modeltranslation.utils import build_localized_fieldname

from clinics import photos
from clinics.comparison import MAX_COMPARED, MIN_COMPARED
from clinics.models import AccreditationKind, City, Clinic, ClinicPhoto, Doctor, Service
from conditions.models import Condition, Specialty, Treatment

if TYPE_CHECKING:
    from clinics.models import ClinicQuerySet, RankedSearchResults
    from conditions.search import NearMisses

ANY = [("", _("Any"))]


class ClinicFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search clinics"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, treatment or city")}),
    )
    city = forms.ChoiceField(label=_("City or province"), choices=ANY + City.choices, required=False)
    specialty: "forms.ModelChoiceField[Specialty]" = forms.ModelChoiceField(
        label=_("Specialty"),
        queryset=Specialty.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label=_("Any"),
    )
    treatment: "forms.ModelChoiceField[Treatment]" = forms.ModelChoiceField(
        label=_("Treatment"),
        queryset=Treatment.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label=_("Any"),
    )
    language = forms.ChoiceField(
        label=_("Language spoken"), choices=ANY + list(settings.LANGUAGES), required=False
    )
    accreditation = forms.ChoiceField(
        label=_("Current accreditation"), choices=ANY + AccreditationKind.choices, required=False
    )
    services = forms.MultipleChoiceField(
        label=_("Services for international patients"),
        choices=Service.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def filter(self, clinics: "ClinicQuerySet") -> "ClinicQuerySet | RankedSearchResults":
        """Apply the valid filters and the search; they combine (AND). Best match first."""
        clinics = self.narrow(clinics)
        query = self.cleaned_data.get("q")
        return clinics.ranked_by_search(query) if query else clinics.order_by_name()

    def near_misses(self, clinics: "ClinicQuerySet") -> "NearMisses | None":
        """For a search that found nothing: the clinics closest to it within the other filters, and a
        corrected query (its link keeps the other filters). None without a valid search."""
        if not self.is_valid() or not self.cleaned_data.get("q"):
            return None
        other_params = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict
        for name in ("q", "page"):
            other_params.pop(name, None)
        return self.narrow(clinics).near_misses(
            self.cleaned_data["q"], other_params=urlencode(other_params, doseq=True)
        )

    def applied_count(self) -> int:
        """How many filters (the search included) narrow the list: shown on the closed "Filters" control."""
        if not self.is_valid():
            return 0
        return sum(1 for value in self.cleaned_data.values() if value)

    def narrow(self, clinics: "ClinicQuerySet") -> "ClinicQuerySet":
        """Apply the valid filters other than the search."""
        data = self.cleaned_data
        if data.get("city"):
            clinics = clinics.in_city(data["city"])
        if data.get("specialty"):
            clinics = clinics.practising(data["specialty"].slug)
        if data.get("treatment"):
            clinics = clinics.offering(data["treatment"].slug)
        if data.get("language"):
            clinics = clinics.speaking(data["language"])
        if data.get("accreditation"):
            clinics = clinics.accredited(data["accreditation"])
        if data.get("services"):
            clinics = clinics.with_services(data["services"])
        return clinics


class MatchingClinicFilterForm(forms.Form):
    """The filters above the clinics list on a condition page."""

    city = forms.ChoiceField(label=_("City or province"), choices=ANY + City.choices, required=False)
    language = forms.ChoiceField(
        label=_("Language spoken"), choices=ANY + list(settings.LANGUAGES), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The request form on the same page has a "language" field too: ids must stay unique.
        kwargs.setdefault("auto_id", "id_clinics_%s")
        super().__init__(*args, **kwargs)

    def filter(self, clinics: "ClinicQuerySet") -> "ClinicQuerySet":
        if self.cleaned_data.get("city"):
            clinics = clinics.in_city(self.cleaned_data["city"])
        if self.cleaned_data.get("language"):
            clinics = clinics.speaking(self.cleaned_data["language"])
        return clinics


class SlugListField(forms.Field):
    """Every value of a repeated query parameter (``?clinic=a&clinic=b``), blanks dropped, each once."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        values = value if isinstance(value, list | tuple) else [value] if value else []
        return list(dict.fromkeys(str(item).strip() for item in values if str(item).strip()))


class ClinicComparisonForm(forms.Form):
    """The clinics to compare side by side (``?clinic=<slug>&clinic=<slug>…``) and the condition they
    were chosen for (``condition=<slug>``), as a shared link or the "Compare" buttons send them.

    Clinics and a condition that are not on the site (any more) are left out, and counted so that the
    page can say so. More than ``MAX_COMPARED`` clinics are refused: three columns are what a reader can
    compare, and cutting the list silently would compare clinics the reader did not choose.
    ``chosen_clinics`` (in the order sent) and ``chosen_condition`` come with what the comparison shows
    (``ClinicQuerySet.for_comparison``).
    """

    # Refused before any lookup: a link naming more clinics than this is no comparison.
    MAX_LOOKED_UP = 20

    clinic = SlugListField(required=False)
    condition = forms.CharField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chosen_clinics: list[Clinic] = []
        self.chosen_condition: Condition | None = None
        self.unknown_clinic_count = 0
        self.unknown_condition = False

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        slugs = cleaned.get("clinic") or []  # type: ignore[union-attr]
        if len(slugs) > self.MAX_LOOKED_UP:
            raise ValidationError(self._too_many(len(slugs)), code="too_many")
        condition_slug = cleaned.get("condition")  # type: ignore[union-attr]
        if condition_slug:
            self.chosen_condition = Condition.objects.published().filter(slug=condition_slug).first()
            self.unknown_condition = self.chosen_condition is None
        if slugs:
            found = {
                clinic.slug: clinic
                for clinic in Clinic.objects.published()
                .for_comparison(self.chosen_condition)
                .filter(slug__in=slugs)
            }
            self.chosen_clinics = [found[slug] for slug in slugs if slug in found]
            self.unknown_clinic_count = len(slugs) - len(self.chosen_clinics)
        if len(self.chosen_clinics) > MAX_COMPARED:
            raise ValidationError(self._too_many(len(self.chosen_clinics)), code="too_many")
        return cleaned

    @staticmethod
    def _too_many(count: int) -> str:
        return ngettext(
            "You chose %(count)s clinic. Compare up to three at a time: untick the ones you need least "
            "and press “Compare” again.",
            "You chose %(count)s clinics. Compare up to three at a time: untick the ones you need least "
            "and press “Compare” again.",
            count,
        ) % {"count": count}

    @property
    def has_enough_clinics(self) -> bool:
        return self.is_valid() and len(self.chosen_clinics) >= MIN_COMPARED


def prepared_photo(upload: UploadedFile) -> photos.PreparedPhoto:
    """``photos.prepare(upload)``, a refusal turned into the error the editor reads."""
    try:
        return photos.prepare(upload)  # type: ignore[no-any-return]  # clinics.photos is not typed yet
    except photos.PhotoTooLarge:
        raise ValidationError(
            ngettext_lazy(
                "The photo is too large. Upload one of at most %(size)s and %(megapixels)d megapixel.",
                "The photo is too large. Upload one of at most %(size)s and %(megapixels)d megapixels.",
                "megapixels",
            ),
            code="too_large",
            params={
                "size": filesizeformat(photos.MAX_UPLOAD_BYTES),
                "megapixels": photos.MAX_PIXELS // 1_000_000,
            },
        ) from None
    except photos.NotAPhoto:
        raise ValidationError(
            _("This file is not a photo. Upload a JPEG, PNG or WebP image."), code="not_a_photo"
        ) from None


class ProcessedPhotoFormMixin:
    """A model form whose photo upload is checked by its content and saved re-encoded, in every width
    and format (``clinics.photos``); what the editor sent is never stored as it is. ``photo_field``
    and ``renditions_field`` name the model's image field and the JSON field of its renditions."""

    photo_field = "image"
    renditions_field = "renditions"
    prepared: photos.PreparedPhoto | None = None
    cleaned_data: dict[str, Any]
    instance: models.Model

    def clean_photo_upload(self) -> "File[bytes] | bool | None":
        upload: File[bytes] | bool | None = self.cleaned_data.get(self.photo_field)
        if not isinstance(upload, UploadedFile):
            return upload  # the photo already saved, kept (or False: removed)
        self.prepared = prepared_photo(upload)
        # Named after what it is: the model's check of the extension must not refuse a photo for its
        # name. This name is never stored.
        upload.name = "photo.jpg"
        return upload

    def save(self, commit: bool = True) -> models.Model:
        if self.prepared is None:
            if self.cleaned_data.get(self.photo_field) is False:  # the editor removed the photo
                setattr(self.instance, self.renditions_field, {})
            return super().save(commit)  # type: ignore[misc, no-any-return]  # mixed into a ModelForm
        stored = photos.store(self.prepared)
        self.prepared = None
        try:
            setattr(self.instance, self.photo_field, stored.image_name)
            setattr(self.instance, self.renditions_field, stored.renditions)
            return super().save(commit)  # type: ignore[misc, no-any-return]
        except BaseException:
            photos.delete_files(stored.names)
            raise


class ClinicPhotoForm(ProcessedPhotoFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    """A clinic photo, re-encoded on save (``ProcessedPhotoFormMixin``)."""

    class Meta:
        model = ClinicPhoto
        fields = [
            "image",
            "subject",
            *(build_localized_fieldname("alt_text", code) for code, _name in settings.LANGUAGES),
            "position",
        ]
        # Pillow is run on the upload once, by ``clinics.photos``, with the limits it sets.
        field_classes = {"image": forms.FileField}

    def clean_image(self) -> "File[bytes] | bool | None":
        return self.clean_photo_upload()


class DoctorForm(ProcessedPhotoFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    """A doctor's profile: the languages ticked from the site's, the photo re-encoded on save and
    described for patients who cannot see it."""

    photo_field = "photo"
    renditions_field = "photo_renditions"

    # The model keeps a JSON list of language codes; editors tick the languages.
    languages = forms.MultipleChoiceField(
        label=capfirst(Doctor._meta.get_field("languages").verbose_name),
        choices=settings.LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Doctor
        fields = [
            "slug",
            "name",
            "title",
            "is_published",
            "specialties",
            "languages",
            "practising_since",
            "focus_conditions",
            "focus_treatments",
            "training",
            "board_certification",
            "photo",
            "photo_alt_text",
            "position",
        ]
        field_classes = {"photo": forms.FileField}

    def clean_languages(self) -> list[str]:
        chosen = set(self.cleaned_data["languages"])
        return [code for code, _name in settings.LANGUAGES if code in chosen]

    def clean_photo(self) -> "File[bytes] | bool | None":
        return self.clean_photo_upload()

    def clean(self) -> dict[str, Any] | None:
        cleaned_data = super().clean()
        alt_field = next(
            (
                name
                for name in (
                    build_localized_fieldname("photo_alt_text", settings.LANGUAGE_CODE),
                    "photo_alt_text",
                )
                if name in self.fields
            ),
            None,
        )
        if alt_field and cleaned_data.get("photo") and not (cleaned_data.get(alt_field) or "").strip():  # type: ignore[union-attr]
            self.add_error(
                alt_field,
                ValidationError(
                    _("Describe the photo for patients who cannot see it (in English at least)."),
                    code="alt_text_required",
                ),
            )
        return cleaned_data
