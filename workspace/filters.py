"""The inbox's filters, kept in the URL (so a view can be bookmarked)."""

from functools import cache
from typing import TYPE_CHECKING, Any

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, When
from django.utils.translation import gettext_lazy as _

from clinics.models import Clinic
from conditions.models import Condition
from inquiries.models import Inquiry, InquiryQuerySet, InquiryStatus
from staff.models import languages_of

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ASSIGNED_CHOICES = [("me", _("Assigned to me")), ("none", _("Unassigned")), ("any", _("Anyone"))]
# The reference breaks ties, so that a row never moves between pages.
SORTS = {
    "due": ["first_response_due_at", "reference"],
    "newest": ["-created_at", "reference"],
    "oldest": ["created_at", "reference"],
}
SORT_CHOICES = [("due", _("Most urgent first")), ("newest", _("Newest first")), ("oldest", _("Oldest first"))]


class InboxFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Reference, name or email"), method="search")
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=InquiryStatus.choices, empty_label=_("Any")
    )
    language = django_filters.ChoiceFilter(
        label=_("Language"), choices=settings.LANGUAGES, empty_label=_("Any")
    )
    # Choices by slug, read once per request: the same list validates the value and renders the menu.
    condition = django_filters.ChoiceFilter(
        label=_("Condition"), field_name="condition__slug", empty_label=_("Any")
    )
    clinic = django_filters.ChoiceFilter(label=_("Clinic"), method="chosen_clinic", empty_label=_("Any"))
    assigned = django_filters.ChoiceFilter(
        label=_("Assigned"), choices=ASSIGNED_CHOICES, method="assignee", empty_label=_("Any")
    )
    open = django_filters.BooleanFilter(label=_("Open only"), method="only_open", widget=forms.CheckboxInput)
    overdue = django_filters.BooleanFilter(
        label=_("Overdue only"), method="only_overdue", widget=forms.CheckboxInput
    )
    unread = django_filters.BooleanFilter(
        label=_("With unread patient messages"), method="only_unread", widget=forms.CheckboxInput
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort"), choices=SORT_CHOICES, method="sorted_by", empty_label=None
    )

    class Meta:
        model = Inquiry
        fields: list[str] = []

    def __init__(self, *args: Any, user: "User", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        # Read when first needed (a value to check or the menu to render), then kept for the request.
        self.filters["condition"].extra["choices"] = cache(
            lambda: [
                (condition.slug, str(condition))
                for condition in Condition.objects.published().order_by("slug")
            ]
        )
        self.filters["clinic"].extra["choices"] = cache(
            lambda: [(clinic.slug, str(clinic)) for clinic in Clinic.objects.published().order_by_name()]
        )

    def search(self, queryset: InquiryQuerySet, name: str, value: str) -> InquiryQuerySet:
        return queryset.search(value)

    def chosen_clinic(self, queryset: InquiryQuerySet, name: str, slug: str) -> InquiryQuerySet:
        # EXISTS rather than a join: the rows stay in the order of the inquiry's own index.
        names_it = Inquiry.preferred_clinics.through.objects.filter(
            inquiry_id=OuterRef("pk"), clinic__slug=slug
        )
        return queryset.filter(Exists(names_it))

    def assignee(self, queryset: InquiryQuerySet, name: str, value: str) -> InquiryQuerySet:
        if value == "me":
            return queryset.filter(assigned_to=self.user)
        if value == "none":
            return queryset.filter(assigned_to__isnull=True)
        return queryset

    def only_open(self, queryset: InquiryQuerySet, name: str, value: bool) -> InquiryQuerySet:
        return queryset.open() if value else queryset

    def only_overdue(self, queryset: InquiryQuerySet, name: str, value: bool) -> InquiryQuerySet:
        return queryset.overdue() if value else queryset

    def only_unread(self, queryset: InquiryQuerySet, name: str, value: bool) -> InquiryQuerySet:
        return queryset.filter(unread_patient_messages__gt=0) if value else queryset

    def sorted_by(self, queryset: InquiryQuerySet, name: str, value: str) -> InquiryQuerySet:
        return queryset.order_by(*SORTS.get(value, SORTS["due"]))

    @property
    def is_default_view(self) -> bool:
        """No filter chosen: the coordinator's own queue."""
        return not any(self.data.get(name) for name in self.filters)


def default_queue(queryset: InquiryQuerySet, user: "User") -> InquiryQuerySet:
    """Their own open inquiries, then unassigned ones in their languages; most urgent first."""
    languages = languages_of(user)
    unassigned = Q(assigned_to__isnull=True)
    if languages:
        unassigned &= Q(language__in=languages)
    mine_first = Case(When(assigned_to=user, then=0), default=1, output_field=IntegerField())
    return (
        queryset.open()
        .filter(Q(assigned_to=user) | unassigned)
        .annotate(mine_first=mine_first)
        .order_by("mine_first", "first_response_due_at", "reference")
    )
