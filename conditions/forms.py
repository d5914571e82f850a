from django import forms
from django.utils.translation import gettext_lazy as _


class ConditionSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search conditions"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("e.g. clonus, stiffness, stroke")}),
    )
