from django import forms
from django.conf import settings
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from clinics.models import AccreditationKind, City, Service
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
    specialty = forms.ModelChoiceField(
        label=_("Specialty"),
        queryset=Specialty.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label=_("Any"),
    )
    treatment = forms.ModelChoiceField(
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
        return clinics.search(query).ranked_by_search(query) if query else clinics.order_by_name()

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
