"""Why a clinic matches a condition, in plain words, for the clinic cards on a condition page."""

from dataclasses import dataclass, field

from django.utils.translation import get_language, get_language_info, gettext, ngettext, pgettext

from clinics.forms import MatchingClinicFilterForm
from clinics.models import Clinic
from conditions.models import TREATMENT_CATEGORY_ORDER

MATCHING_CLINICS_SHOWN = 10
# A card names this many of the clinic's treatments for the condition, then says "and N more".
TREATMENTS_NAMED = 3


def human_join(items):
    items = [str(item) for item in items]
    if len(items) <= 1:
        return "".join(items)
    separator = pgettext("list separator", ", ")
    return gettext("%(items)s and %(last)s") % {"items": separator.join(items[:-1]), "last": items[-1]}


@dataclass
class ClinicMatch:
    """What a clinic card on a condition page says about one matching clinic."""

    clinic: Clinic
    treatments: list = field(default_factory=list)  # the most relevant, at most TREATMENTS_NAMED
    more_treatments: int = 0
    specialties: list = field(default_factory=list)
    reader_language: str = ""
    roles: list = field(default_factory=list)  # who speaks the reader's language
    doctors: list = field(default_factory=list)  # the published doctors speaking the reader's language
    accreditations: list = field(default_factory=list)
    price_min_krw: int | None = None
    price_max_krw: int | None = None
    stay_min_days: int | None = None
    stay_max_days: int | None = None

    @property
    def treatments_text(self):
        if not self.more_treatments:
            return human_join(self.treatments)
        return ngettext(
            "%(treatments)s and %(count)s more", "%(treatments)s and %(count)s more", self.more_treatments
        ) % {
            "treatments": pgettext("list separator", ", ").join(self.treatments),
            "count": self.more_treatments,
        }

    @property
    def roles_text(self):
        return human_join(self.roles)

    @property
    def has_price(self):
        return self.price_min_krw is not None

    @property
    def stay_text(self):
        if self.stay_min_days is None:
            return ""
        if self.stay_min_days == self.stay_max_days:
            return ngettext("%(count)s day", "%(count)s days", self.stay_max_days) % {
                "count": self.stay_max_days
            }
        return ngettext(
            "%(shortest)s–%(longest)s day", "%(shortest)s–%(longest)s days", self.stay_max_days
        ) % {"shortest": self.stay_min_days, "longest": self.stay_max_days}


def clinic_match(clinic, condition, language):
    """The match of a clinic annotated by ``ClinicQuerySet.for_condition`` (and
    ``with_published_doctors``).

    Treatments are named most relevant first: procedures, then medicines, then therapies (the
    condition page's order of categories), and within a category in the condition page's order.
    """
    positions = {link.treatment_id: link.position for link in condition.condition_treatments.all()}
    links = sorted(
        clinic.matched_treatments,
        key=lambda link: (
            _relevance(link.treatment.category),
            positions.get(link.treatment_id, 0),
            link.treatment.name,
        ),
    )
    prices = [link.price_min_krw for link in links if link.price_min_krw is not None]
    price_tops = [
        link.price_max_krw or link.price_min_krw for link in links if link.price_min_krw is not None
    ]
    stays = [link.typical_stay_days for link in links if link.typical_stay_days]
    return ClinicMatch(
        clinic=clinic,
        treatments=[link.treatment.name for link in links[:TREATMENTS_NAMED]],
        more_treatments=max(len(links) - TREATMENTS_NAMED, 0),
        specialties=[specialty.name for specialty in clinic.matched_specialties],
        reader_language=get_language_info(language)["name_translated"],
        roles=clinic.roles_speaking(language),
        doctors=[doctor for doctor in clinic.published_doctors if doctor.speaks(language)],
        accreditations=[accreditation.get_kind_display() for accreditation in clinic.current_accreditations],
        price_min_krw=min(prices) if prices else None,
        price_max_krw=max(price_tops) if price_tops else None,
        stay_min_days=min(stays) if stays else None,
        stay_max_days=max(stays) if stays else None,
    )


# Clinical procedures say most about a clinic's offer for a condition, then medicines, then therapies;
# the remaining categories keep the condition page's order.
_MOST_TELLING_FIRST = ["procedure", "medication", "physical_therapy", "occupational_therapy"]
_RELEVANCE_ORDER = _MOST_TELLING_FIRST + [c for c in TREATMENT_CATEGORY_ORDER if c not in _MOST_TELLING_FIRST]


def _relevance(category):
    return _RELEVANCE_ORDER.index(category) if category in _RELEVANCE_ORDER else len(_RELEVANCE_ORDER)


def matching_clinics(request, condition):
    """The clinics listed on a condition page, filtered by the page's city and language query.

    Returns (filter form, clinics). Memoized on the request: the list and the request form on the
    same page use it, and ranking every clinic is the costly query of the page.
    """
    language = get_language()
    memo = request.__dict__.setdefault("_matching_clinics", {})
    key = (condition.pk, language, request.GET.get("city"), request.GET.get("language"))
    if key not in memo:
        form = MatchingClinicFilterForm(request.GET or None)
        clinics = (
            Clinic.objects.published().for_condition(condition, language=language).with_published_doctors()
        )
        if form.is_valid():
            clinics = form.filter(clinics)
        memo[key] = (form, list(clinics[:MATCHING_CLINICS_SHOWN]))
    return memo[key]
