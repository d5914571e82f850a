from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from modeltranslation.utils import build_localized_fieldname

from clinics import photos
from clinics.models import AccreditationKind, City, ClinicPhoto, Service
from conditions.models import Specialty, Treatment

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

    def filter(self, clinics):
        """Apply the valid filters and the search; they combine (AND). Best match first."""
        clinics = self.narrow(clinics)
        query = self.cleaned_data.get("q")
        return clinics.ranked_by_search(query) if query else clinics.order_by_name()

    def near_misses(self, clinics):
        """For a search that found nothing: the clinics closest to it within the other filters, and a
        corrected query (its link keeps the other filters). None without a valid search."""
        if not self.is_valid() or not self.cleaned_data.get("q"):
            return None
        other_params = self.data.copy()
        for name in ("q", "page"):
            other_params.pop(name, None)
        return self.narrow(clinics).near_misses(
            self.cleaned_data["q"], other_params=urlencode(other_params, doseq=True)
        )

    def applied_count(self):
        """How many filters (the search included) narrow the list: shown on the closed "Filters" control."""
        if not self.is_valid():
            return 0
        return sum(1 for value in self.cleaned_data.values() if value)

    def narrow(self, clinics):
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

    def __init__(self, *args, **kwargs):
        # The request form on the same page has a "language" field too: ids must stay unique.
        kwargs.setdefault("auto_id", "id_clinics_%s")
        super().__init__(*args, **kwargs)

    def filter(self, clinics):
        if self.cleaned_data.get("city"):
            clinics = clinics.in_city(self.cleaned_data["city"])
        if self.cleaned_data.get("language"):
            clinics = clinics.speaking(self.cleaned_data["language"])
        return clinics


class ClinicPhotoForm(forms.ModelForm):
    """A clinic photo: the upload is checked by its content and saved re-encoded, in every width and
    format (``clinics.photos``); what the editor sent is never stored as it is."""

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

    prepared = None

    def clean_image(self):
        upload = self.cleaned_data.get("image")
        if not isinstance(upload, UploadedFile):
            return upload  # the photo already saved, kept
        try:
            self.prepared = photos.prepare(upload)
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
        # Named after what it is: the model's check of the extension must not refuse a photo for its
        # name. This name is never stored.
        upload.name = "photo.jpg"
        return upload

    def save(self, commit=True):
        if self.prepared is None:
            return super().save(commit)
        stored = photos.store(self.prepared)
        self.prepared = None
        try:
            self.instance.image = stored.image_name
            self.instance.renditions = stored.renditions
            return super().save(commit)
        except BaseException:
            photos.delete_files(stored.names)
            raise
