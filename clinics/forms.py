from django import forms
from django.conf import settings
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
        """Apply the valid filters; they combine (AND)."""
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
        if data.get("q"):
            clinics = clinics.search(data["q"]).ranked_by_search(data["q"])
        else:
            clinics = clinics.order_by_name()
        return clinics


class MatchingClinicFilterForm(forms.Form):
    """The filters above the clinics list on a condition page."""

    city = forms.ChoiceField(label=_("City or province"), choices=ANY + City.choices, required=False)
    language = forms.ChoiceField(
        label=_("Language spoken"), choices=ANY + list(settings.LANGUAGES), required=False
    )

    def filter(self, clinics):
        if self.cleaned_data.get("city"):
            clinics = clinics.in_city(self.cleaned_data["city"])
        if self.cleaned_data.get("language"):
            clinics = clinics.speaking(self.cleaned_data["language"])
        return clinics
