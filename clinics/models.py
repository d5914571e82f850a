"""Korean clinics: who they are, what they treat, and what they offer international patients."""

import datetime
import operator
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import TrigramWordSimilarity
from django.core.exceptions import ValidationError
from django.core.files.storage import Storage, storages
from django.core.validators import MinValueValidator
from django.db import connections, models
from django.db.models import Exists, F, OrderBy, OuterRef, Prefetch, Q, Value
from django.db.models.functions import Coalesce, NullIf
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from modeltranslation.utils import build_localized_fieldname
from phonenumber_field.modelfields import PhoneNumberField

from clinics.map_links import MapLink, map_links
from conditions.models import Condition, Specialty, Treatment, written_words
from conditions.search import SearchTextQuerySet, display_words, normalize, search_terms

# Upkeep the clinic manager is shown: accreditations about to lapse, registrations to check again.
ACCREDITATION_EXPIRY_NOTICE_DAYS = 90
REGISTRATION_VERIFICATION_DAYS = 365


def public_media_storage() -> Storage:
    """Clinic photos are public, unlike the default (private) storage used for medical records."""
    return storages["public"]


class ClinicKind(models.TextChoices):
    TERTIARY_HOSPITAL = "tertiary", _("Tertiary hospital")
    GENERAL_HOSPITAL = "general", _("General hospital")
    HOSPITAL = "hospital", _("Hospital")
    CLINIC = "clinic", _("Clinic")
    REHABILITATION_HOSPITAL = "rehabilitation", _("Rehabilitation hospital")


class City(models.TextChoices):
    SEOUL = "seoul", _("Seoul")
    BUSAN = "busan", _("Busan")
    INCHEON = "incheon", _("Incheon")
    DAEGU = "daegu", _("Daegu")
    DAEJEON = "daejeon", _("Daejeon")
    GWANGJU = "gwangju", _("Gwangju")
    ULSAN = "ulsan", _("Ulsan")
    GYEONGGI = "gyeonggi", _("Gyeonggi")
    GANGWON = "gangwon", _("Gangwon")
    JEJU = "jeju", _("Jeju")


class LanguageRole(models.TextChoices):
    COORDINATOR = "coordinator", _("International coordinator")
    INTERPRETER = "interpreter", _("Interpreter on call")
    DOCTOR = "doctor", _("Doctor")


class Service(models.TextChoices):
    INTERPRETER = "interpreter", _("Medical interpreter")
    AIRPORT_PICKUP = "airport_pickup", _("Airport pickup")
    VISA_LETTER = "visa_letter", _("Visa invitation letter (C-3-3 / G-1-10 medical visa)")
    ACCOMMODATION = "accommodation", _("Help with accommodation")
    HALAL_MEALS = "halal_meals", _("Halal meals")
    INSURANCE_BILLING = "insurance_billing", _("International insurance billing")


class AccreditationKind(models.TextChoices):
    KOIHA = "koiha", _("KOIHA national accreditation")
    JCI = "jci", _("JCI accreditation")
    KAHF = "kahf", _("KAHF foreign-patient programme")
    REHABILITATION_DESIGNATED = (
        "rehab_designated",
        _("Designated rehabilitation hospital (Ministry of Health)"),
    )


def name_sort_key(language: str) -> Coalesce:
    """A clinic's name in ``language``, or in English when it has none there: what lists sort by."""
    return Coalesce(NullIf(F(build_localized_fieldname("name", language)), Value("")), F("name_en"))


ENGLISH_NAME = build_localized_fieldname("name", "en")


def sorted_by_name(clinics: "Iterable[Clinic]") -> "list[Clinic]":
    """Clinics already fetched, in the order of ``ClinicQuerySet.order_by_name`` (``name_sort_key``,
    then id). Names compare by code point, as the database's C.UTF-8 collation does."""
    local = build_localized_fieldname("name", get_language() or settings.LANGUAGE_CODE)
    return sorted(
        clinics, key=lambda clinic: (getattr(clinic, local) or getattr(clinic, ENGLISH_NAME), clinic.pk)
    )


class ClinicQuerySet(SearchTextQuerySet["Clinic"]):
    def published(self) -> "ClinicQuerySet":
        return self.filter(is_published=True)

    def in_city(self, city: str) -> "ClinicQuerySet":
        return self.filter(city=city)

    def practising(self, specialty_slug: str) -> "ClinicQuerySet":
        return self.filter(specialties__slug=specialty_slug)

    def offering(self, treatment_slug: str) -> "ClinicQuerySet":
        return self.filter(clinic_treatments__treatment__slug=treatment_slug)

    def speaking(self, language: str) -> "ClinicQuerySet":
        return self.filter(Exists(ClinicLanguage.objects.filter(clinic=OuterRef("pk"), language=language)))

    def accredited(self, kind: str, today: datetime.date | None = None) -> "ClinicQuerySet":
        current = Accreditation.objects.current(today).filter(clinic=OuterRef("pk"), kind=kind)
        return self.filter(Exists(current))

    def accreditation_expiring(self, today: datetime.date | None = None) -> "ClinicQuerySet":
        """Clinics with an accreditation that lapses within the notice period (not one already lapsed)."""
        expiring = Accreditation.objects.expiring(today).filter(clinic=OuterRef("pk"))
        return self.filter(Exists(expiring))

    def registration_unverified(self, today: datetime.date | None = None) -> "ClinicQuerySet":
        """Clinics whose registration was last verified over a year ago, and published clinics whose
        registration was never verified."""
        today = today or timezone.localdate()
        since = today - datetime.timedelta(days=REGISTRATION_VERIFICATION_DAYS)
        return self.filter(
            Q(registration_verified_on__lt=since)
            | Q(registration_verified_on__isnull=True, is_published=True)
        )

    def with_services(self, services: Iterable[str]) -> "ClinicQuerySet":
        queryset = self
        for service in services:
            queryset = queryset.filter(
                Exists(ClinicService.objects.filter(clinic=OuterRef("pk"), service=service))
            )
        return queryset

    def ranked_by_search(self, query: str) -> "RankedSearchResults":
        """These clinics found by ``search(query)``, best match first, as ``RankedSearchResults``:
        those whose names hold every term (on PostgreSQL the closest by trigram similarity first,
        elsewhere alphabetical), then the others by name."""
        return RankedSearchResults(self, query)

    def count_up_to(self, limit: int) -> int:
        """How many clinics there are, counting no further than ``limit`` (one bounded query)."""
        return self.order_by()[:limit].count()

    # Near misses are looked for by similarity of the names: the whole search text of many clinics
    # (every condition they treat, in eight languages) is too long to compare quickly.
    search_similarity_field = "search_names"

    def search_vocabulary(self) -> dict[str, str]:
        """Names patients misspell: conditions, treatments (with their other names) and specialties,
        in every language (three queries)."""
        return {
            **written_words(Condition.objects.published(), "name", "other_names"),
            **written_words(Treatment.objects.all(), "name", "synonyms"),
            **written_words(Specialty.objects.all(), "name"),
        }

    def search_written_words(self, clinics: "Iterable[Clinic]") -> dict[str, str]:
        return display_words(
            getattr(clinic, field) for clinic in clinics for field in _localized_fieldnames("name")
        )

    def order_by_name(self) -> "ClinicQuerySet":
        return self.order_by(*self._name_ordering())

    def _name_ordering(self) -> list[OrderBy]:
        # The expressions of the per-language sort indexes (``Clinic.Meta.indexes``), exactly.
        return [name_sort_key(get_language() or settings.LANGUAGE_CODE).asc(), F("id").asc()]

    def treating(self, condition: Condition) -> "ClinicQuerySet":
        """Clinics offering one of the condition's treatments or practising one of its specialties."""
        matched_treatments, matched_specialties = _matches(*_condition_links(condition))
        return self._having_any(matched_treatments, matched_specialties)

    def _having_any(self, *links: "models.QuerySet[models.Model]") -> "ClinicQuerySet":
        return self.filter(reduce(operator.or_, (Exists(link) for link in links)))

    def for_condition(
        self, condition: Condition, language: str | None = None, today: datetime.date | None = None
    ) -> "ClinicQuerySet":
        """``treating(condition)``, each clinic annotated with what matched, best match first.

        The order is the published ranking (the "How we rank clinics" page): clinics supporting the
        reader's language first, then by the condition's clinical treatments offered, its specialties
        practised, current accreditations, then name in the reader's language. It is read from the
        match table (``ClinicConditionMatch``, kept by ``clinics.match_table``), whose index holds
        that order: the best matches are a short index read whatever the number of clinics.
        Accreditations count as of the table's last refresh (at least nightly); ``today`` dates the
        accreditations the cards show.
        """
        language = language or get_language()
        if language not in dict(settings.LANGUAGES):  # the table has rows for the site's languages
            language = settings.LANGUAGE_CODE
        treatment_ids, specialty_ids = _condition_links(condition)
        # One filter() call: the conditions and the ordering below share one join to the table.
        ranked = self.filter(condition_matches__condition=condition, condition_matches__language=language)
        return (
            ranked.annotate(
                **{annotation: F(f"condition_matches__{column}") for annotation, column in RANKED_COLUMNS}
            )
            .order_by(
                *(f"-condition_matches__{column}" for _annotation, column in RANKED_COLUMNS),
                "condition_matches__sort_name",
                "condition_matches__clinic_id",
            )
            .prefetch_related(
                Prefetch(
                    "clinic_treatments",
                    queryset=ClinicTreatment.objects.filter(treatment_id__in=treatment_ids).select_related(
                        "treatment"
                    ),
                    to_attr="matched_treatments",
                ),
                Prefetch(
                    "specialties",
                    queryset=Specialty.objects.filter(pk__in=specialty_ids),
                    to_attr="matched_specialties",
                ),
            )
            .with_card_details(today)
        )

    def with_published_doctors(self) -> "ClinicQuerySet":
        """Each clinic's published doctors as ``published_doctors``, in one query. Who speaks a
        language is picked from them in Python: languages are a JSON list, which SQLite cannot search."""
        return self.prefetch_related(
            Prefetch(
                "doctors", queryset=Doctor.objects.filter(is_published=True), to_attr="published_doctors"
            )
        )

    def with_card_details(self, today: datetime.date | None = None) -> "ClinicQuerySet":
        """What a clinic card shows: languages, current accreditations and photos, in three queries."""
        return self.prefetch_related(
            "languages",
            "photos",
            Prefetch(
                "accreditations",
                queryset=Accreditation.objects.current(today).order_by("kind"),
                to_attr="current_accreditations",
            ),
        )

    def for_comparison(self, condition: Condition | None = None) -> "ClinicQuerySet":
        """What the comparison of clinics shows, in a fixed number of queries whatever the number of
        clinics: seven, plus two for the condition's treatments and specialties when one is given.

        Each clinic carries ``compared_treatments`` (with their treatment), ``compared_specialties``
        and ``compared_doctors`` (published, with their specialties): those for ``condition`` when
        given, else all of them; and ``all_accreditations``, lapsed ones included, so that they can be
        shown as lapsed.
        """
        treatments = ClinicTreatment.objects.select_related("treatment")
        specialties = Specialty.objects.all()
        doctors = Doctor.objects.filter(is_published=True).prefetch_related("specialties")
        if condition is not None:
            treatment_ids, specialty_ids = _condition_links(condition)
            treatments = treatments.filter(treatment_id__in=treatment_ids)
            specialties = specialties.filter(pk__in=specialty_ids)
            doctors = doctors.filter(specialties__in=specialty_ids).distinct()
        return self.prefetch_related(
            "languages",
            "services",
            Prefetch("clinic_treatments", queryset=treatments, to_attr="compared_treatments"),
            Prefetch("specialties", queryset=specialties, to_attr="compared_specialties"),
            Prefetch("doctors", queryset=doctors, to_attr="compared_doctors"),
            Prefetch("accreditations", queryset=Accreditation.objects.all(), to_attr="all_accreditations"),
        )


# The clinics whose names hold a search that are ranked by closeness before the others: enough for
# the pages anyone reads, few enough to rank in one short query however many clinics match.
RANKED_NAME_MATCHES = 100
# A search found more clinics than the paginator counts: its page is first looked for among this many
# times as many clinics as it needs, read in name order, then among ten times more, and so on.
FIRST_NAME_WINDOW_FACTOR = 2
LAST_NAME_WINDOW = 4_000


class RankedSearchResults:
    """Found clinics, best match first, as a sequence a paginator counts and slices.

    First the clinics whose names hold every term: the first ``RANKED_NAME_MATCHES`` of them by name,
    ordered by trigram similarity to the names on PostgreSQL (alphabetically elsewhere). Then every
    other clinic found, by name. Ranking all of the clinics found would compare every one of them; this
    way a page costs a fixed number of short queries (ranked ids, the page) at any size.
    Each clinic carries ``search_rank``: its similarity when ranked on PostgreSQL, else None.
    """

    def __init__(self, clinics: ClinicQuerySet, query: str) -> None:
        self.clinics = clinics
        self.query = query
        self.terms = search_terms(query)
        self.found = clinics.search(query)
        self._ranked: list[tuple[Any, float | None]] | None = None
        self._found_more_than_counted = False

    def count(self) -> int:
        return self.found.count()

    def count_up_to(self, limit: int) -> int:
        count = self.found.count_up_to(limit)
        self._found_more_than_counted = count >= limit
        return count

    def __iter__(self) -> "Iterator[Clinic]":
        return iter(self[0 : self.count()])

    def __getitem__(self, index: slice) -> "list[Clinic]":
        if not isinstance(index, slice) or index.step is not None or index.start is None:
            raise TypeError("RankedSearchResults are read a page (a slice with a start) at a time.")
        start, stop = index.start, index.stop
        if stop <= start:
            return []
        ranked = self._ranked_name_matches()
        page_ranked = [pk for pk, _rank in ranked[start:stop]]
        clinics = self._page(
            page_ranked, [pk for pk, _rank in ranked], start - len(ranked), stop - len(ranked)
        )
        rank_of = dict(ranked)
        position = {pk: number for number, pk in enumerate(page_ranked)}
        # The ranked ones first, in their order; the others keep the order by name.
        clinics.sort(key=lambda clinic: position.get(clinic.pk, len(position)))
        for clinic in clinics:
            clinic.search_rank = rank_of.get(clinic.pk)  # type: ignore[attr-defined]
        return clinics

    def _page(self, page_ranked: list[Any], ranked: list[Any], first: int, last: int) -> "list[Clinic]":
        """The clinics ``page_ranked`` and the other clinics found, from ``first`` to ``last`` by name.

        When the search found more clinics than the paginator counts, most clinics may hold its terms.
        PostgreSQL cannot tell: the search texts are too long for its statistics, so it would look every
        match up in the trigram index, check and sort them all (1.3 s for a common word at 100,000
        clinics). The others are then first looked for in a window of the clinics in name order (an
        index read that stops early), growing tenfold while the page is not full, up to
        ``LAST_NAME_WINDOW`` clinics; past it, the trigram index finds them.
        """
        if last <= 0:
            return list(self.clinics.filter(pk__in=page_ranked).order_by_name())
        first = max(first, 0)
        window: int | None = None
        if self._found_more_than_counted:
            window = last * FIRST_NAME_WINDOW_FACTOR
        while True:
            found = self.found
            if window is not None:
                in_window = self.clinics.order_by_name().values("pk")[:window]
                found = self.clinics.search(self.query, use_index=False).filter(pk__in=in_window)
            others = list(
                found.exclude(pk__in=ranked).order_by_name().values_list("pk", flat=True)[first:last]
            )
            if window is None or len(others) == last - first:
                # Fetched by their keys: "these keys or those of a subquery" would be read in name order
                # through the whole table.
                return list(self.clinics.filter(pk__in=page_ranked + others).order_by_name())
            window = window * 10 if window * 10 <= LAST_NAME_WINDOW else None

    def _ranked_name_matches(self) -> list[tuple[Any, float | None]]:
        """[(pk, similarity or None)] of the clinics whose names hold every term, best first."""
        if not self.terms:
            return []
        if self._ranked is None:
            # The names are part of the search text: a clinic whose names hold every term is found.
            name_matches = self.clinics
            for term in self.terms:
                name_matches = name_matches.filter(search_names__contains=term)
            first = name_matches.order_by_name().values("pk")[:RANKED_NAME_MATCHES]
            if connections[self.clinics.db].vendor == "postgresql":
                similarity = TrigramWordSimilarity(" ".join(self.terms), "search_names")
                ranked: Iterable[tuple[Any, float | None]] = (
                    self.clinics.model.objects.using(self.clinics.db)
                    .filter(pk__in=first)
                    .annotate(search_rank=similarity)
                    .order_by("-search_rank", *self.clinics._name_ordering())
                    .values_list("pk", "search_rank")
                )
            else:
                ranked = ((pk, None) for pk in first.values_list("pk", flat=True))
            self._ranked = list(ranked)
        return self._ranked


# The published ranking rules, in order (see the ranking page), as (annotation, match table column);
# ties are broken by name.
RANKED_COLUMNS = (
    ("speaks_reader_language", "speaks_language"),
    ("matched_treatment_count", "matched_treatment_count"),
    ("matched_specialty_count", "matched_specialty_count"),
    ("current_accreditation_count", "current_accreditation_count"),
)


def _condition_links(condition: Condition) -> tuple[list[int], list[int]]:
    """Ids of the condition's clinical treatments and of its specialties: what a clinic can match on.

    Self-care advice (home exercises, lifestyle measures) is content for the patient, never a ground
    for listing a clinic. Uses the condition's prefetched relations when the page fetched them.
    """
    if "condition_treatments" in getattr(condition, "_prefetched_objects_cache", {}):
        treatment_ids = [
            link.treatment_id
            for link in condition.condition_treatments.all()
            if link.treatment.is_clinical_service
        ]
    else:
        treatment_ids = list(
            condition.condition_treatments.filter(treatment__is_clinical_service=True).values_list(
                "treatment_id", flat=True
            )
        )
    specialty_ids = [specialty.pk for specialty in condition.specialties.all()]
    return treatment_ids, specialty_ids


def _matches(
    treatment_ids: Iterable[int], specialty_ids: Iterable[int]
) -> "tuple[models.QuerySet[ClinicTreatment], models.QuerySet[models.Model]]":
    """A clinic's (``OuterRef("pk")``) links to these treatments and to these specialties."""
    return (
        ClinicTreatment.objects.filter(clinic=OuterRef("pk"), treatment_id__in=treatment_ids),
        Clinic.specialties.through.objects.filter(clinic=OuterRef("pk"), specialty_id__in=specialty_ids),
    )


class Clinic(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=200)
    legal_name_ko = models.CharField(_("legal name (Korean)"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=ClinicKind.choices)
    city = models.CharField(_("city or province"), max_length=20, choices=City.choices)
    district = models.CharField(_("district"), max_length=80, blank=True)
    address_ko = models.CharField(_("address (Korean)"), max_length=300)
    address_en = models.CharField(_("address (English)"), max_length=300)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    phone = PhoneNumberField(_("phone"), blank=True)
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)
    year_founded = models.PositiveSmallIntegerField(_("year founded"), null=True, blank=True)
    bed_count = models.PositiveIntegerField(_("number of beds"), null=True, blank=True)
    has_international_centre = models.BooleanField(_("international patient centre"), default=False)
    foreign_patient_registration_number = models.CharField(
        _("foreign-patient attraction registration number"), max_length=40, blank=True
    )
    registration_verified_on = models.DateField(_("registration last verified"), null=True, blank=True)
    # Where shared cases go (not shown on the site), and the language of those emails.
    contact_email = models.EmailField(
        _("email for shared cases"),
        blank=True,
        help_text=_("The international patient team's address: cases shared with the clinic are sent here."),
    )
    contact_language = models.CharField(
        _("language of emails to the clinic"), max_length=10, choices=settings.LANGUAGES, default="ko"
    )

    specialties = models.ManyToManyField(
        Specialty, related_name="clinics", blank=True, verbose_name=_("specialties")
    )
    treatments: "models.ManyToManyField[Treatment, ClinicTreatment]" = models.ManyToManyField(
        Treatment,
        through="ClinicTreatment",
        related_name="clinics",
        blank=True,
        verbose_name=_("treatments offered"),
    )

    is_published = models.BooleanField(_("published"), default=False)
    is_sample = models.BooleanField(
        _("sample data"), default=False, help_text=_("Fictional demo clinic; marked as such on every page.")
    )
    search_text = models.TextField(editable=False, default="")
    search_names = models.TextField(editable=False, default="")

    objects = ClinicQuerySet.as_manager()

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")
        # Lists sorted by name in the reader's language (``ClinicQuerySet.order_by_name``) read their
        # first rows off one of these instead of sorting every clinic.
        indexes = [
            models.Index(name_sort_key(code), F("id"), name=f"clinic_name_sort_{code.replace('-', '_')}")
            for code, _name in settings.LANGUAGES
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("clinics:detail", kwargs={"slug": self.slug})

    def publication_problems(
        self,
        *,
        specialties: Iterable[Specialty] | None = None,
        languages: "Iterable[ClinicLanguage] | None" = None,
    ) -> dict[str, str | Promise]:
        """What stops this clinic from being published: {field: translated message}, empty when
        nothing does. ``specialties`` and ``languages`` are what an editor is about to save (default:
        what is saved)."""
        if specialties is None:
            specialties = self.specialties.all() if self.pk else []
        if languages is None:
            languages = self.languages.all() if self.pk else []
        problems: dict[str, str | Promise] = {}
        if not self.foreign_patient_registration_number.strip():
            problems["foreign_patient_registration_number"] = _(
                "A published clinic needs its foreign-patient attraction registration number."
            )
        if not specialties:
            problems["specialties"] = _("A published clinic needs at least one specialty.")
        if not languages:
            problems["languages"] = _("A published clinic needs at least one supported language.")
        return problems

    def speaks(self, language: str) -> bool:
        return any(row.language == language for row in self.languages.all())

    def language_codes(self) -> list[str]:
        return sorted({row.language for row in self.languages.all()}, key=_language_order)

    def roles_speaking(self, language: str) -> list[str]:
        return [row.get_role_display() for row in self.languages.all() if row.language == language]

    def map_links(self) -> list[MapLink]:
        """Links to the clinic's location in Naver Map, Kakao Map, OpenStreetMap and Google Maps."""
        return map_links(
            name=self.name, address_ko=self.address_ko, latitude=self.latitude, longitude=self.longitude
        )


def _language_order(code: str) -> int:
    codes = [language for language, _name in settings.LANGUAGES]
    return codes.index(code) if code in codes else len(codes)


class ClinicTreatment(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="clinic_treatments")
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="clinic_links")
    price_min_krw = models.PositiveIntegerField(_("indicative price from (KRW)"), null=True, blank=True)
    price_max_krw = models.PositiveIntegerField(_("indicative price to (KRW)"), null=True, blank=True)
    typical_stay_days = models.PositiveSmallIntegerField(
        _("typical length of stay (days)"), null=True, blank=True
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "treatment"], name="unique_clinic_treatment"),
            models.CheckConstraint(
                condition=Q(price_min_krw__isnull=True)
                | Q(price_max_krw__isnull=True)
                | Q(price_min_krw__lte=F("price_max_krw")),
                name="clinic_treatment_price_range_ordered",
            ),
        ]
        verbose_name = _("treatment offered")
        verbose_name_plural = _("treatments offered")

    def __str__(self) -> str:
        return f"{self.clinic} → {self.treatment}"


class ClinicLanguage(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="languages")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    role = models.CharField(_("who speaks it"), max_length=20, choices=LanguageRole.choices)

    class Meta:
        ordering = ["language", "role"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "language", "role"], name="unique_clinic_language_role")
        ]
        verbose_name = _("language supported")
        verbose_name_plural = _("languages supported")

    def __str__(self) -> str:
        return f"{self.get_language_display()} ({self.get_role_display()})"


class ClinicService(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="services")
    service = models.CharField(_("service"), max_length=32, choices=Service.choices)

    class Meta:
        ordering = ["service"]
        constraints = [models.UniqueConstraint(fields=["clinic", "service"], name="unique_clinic_service")]
        verbose_name = _("international service")
        verbose_name_plural = _("international services")

    def __str__(self) -> str:
        return self.get_service_display()


class AccreditationQuerySet(models.QuerySet["Accreditation"]):
    def current(self, today: datetime.date | None = None) -> "AccreditationQuerySet":
        today = today or timezone.localdate()
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today)).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=today)
        )

    def expiring(self, today: datetime.date | None = None) -> "AccreditationQuerySet":
        """Accreditations still valid that lapse within the notice period."""
        today = today or timezone.localdate()
        last_day = today + datetime.timedelta(days=ACCREDITATION_EXPIRY_NOTICE_DAYS)
        return self.filter(valid_until__gte=today, valid_until__lte=last_day)


class Accreditation(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="accreditations")
    kind = models.CharField(_("accreditation"), max_length=20, choices=AccreditationKind.choices)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    certificate_number = models.CharField(_("certificate number"), max_length=60, blank=True)

    objects = AccreditationQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "-valid_until"]
        verbose_name = _("accreditation")
        verbose_name_plural = _("accreditations")

    def __str__(self) -> str:
        return self.get_kind_display()


class ClinicConditionMatch(models.Model):
    """How well a clinic matches a condition, for a reader of one language: the published ranking's
    facts, precomputed so that a condition page reads its best clinics off one index.

    One row per condition, clinic and reader language, for every clinic offering one of the
    condition's clinical treatments or practising one of its specialties. Derived data with one owner,
    ``clinics.match_table``: never edited by hand. Publication is not copied: pages filter the clinic.
    """

    condition = models.ForeignKey(
        Condition, on_delete=models.CASCADE, related_name="+", db_index=False
    )  # the ranking index leads with it
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="condition_matches")
    language = models.CharField(max_length=10, choices=settings.LANGUAGES)
    speaks_language = models.BooleanField()
    matched_treatment_count = models.PositiveSmallIntegerField()
    matched_specialty_count = models.PositiveSmallIntegerField()
    current_accreditation_count = models.PositiveSmallIntegerField()
    # The clinic's name in ``language``, or in English when it has none there.
    sort_name = models.CharField(max_length=200)

    class Meta:
        indexes = [
            # The published ranking, in order (``ClinicQuerySet.for_condition``).
            models.Index(
                fields=[
                    "condition",
                    "language",
                    "-speaks_language",
                    "-matched_treatment_count",
                    "-matched_specialty_count",
                    "-current_accreditation_count",
                    "sort_name",
                    "clinic",
                ],
                name="clinic_match_ranking",
            )
        ]

    def __str__(self) -> str:
        return f"{self.clinic_id} ~ {self.condition_id} ({self.language})"


def validate_language_codes(value: object) -> None:
    """A list of the site's language codes (``settings.LANGUAGES``)."""
    known = [code for code, _name in settings.LANGUAGES]
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise ValidationError(_("Give the languages as a list of language codes."), code="invalid")
    unknown = [code for code in value if code not in known]
    if unknown:
        raise ValidationError(
            _("Unknown language code: %(codes)s. Use one of: %(known)s."),
            code="unknown_language",
            params={"codes": ", ".join(unknown), "known": ", ".join(known)},
        )


# Nobody practising today qualified earlier than this; a year before it is a typing mistake.
EARLIEST_PRACTISING_SINCE = 1950


def validate_not_future_year(value: int) -> None:
    if value > timezone.localdate().year:
        raise ValidationError(_("The year cannot be in the future."), code="future_year")


@dataclass(frozen=True)
class PhotoImage:
    """A stored photo as the photo template tag reads it (``clinics/_photo.html``)."""

    image: models.fields.files.FieldFile
    renditions: dict[str, dict[str, str]]
    width: int
    height: int
    alt_text: str


class DoctorQuerySet(models.QuerySet["Doctor"]):
    def published(self) -> "DoctorQuerySet":
        """Doctors shown on the site: published, at a published clinic."""
        return self.filter(is_published=True, clinic__is_published=True)

    def for_profile(self) -> "DoctorQuerySet":
        """What a doctor's page shows, in four queries: the doctor with the clinic, the specialties,
        the published conditions the doctor focuses on, and the treatments."""
        return self.select_related("clinic").prefetch_related(
            "specialties",
            Prefetch(
                "focus_conditions",
                queryset=Condition.objects.published().order_by("name_en"),
                to_attr="published_focus_conditions",
            ),
            Prefetch("focus_treatments", queryset=Treatment.objects.order_by("name_en")),
        )


class Doctor(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="doctors")
    slug = models.SlugField(
        _("slug"),
        max_length=80,
        help_text=_("The end of the doctor's page address, unique within the clinic, e.g. kim-ji-hoon."),
    )
    name = models.CharField(_("name"), max_length=120)
    title = models.CharField(
        _("title"),
        max_length=120,
        blank=True,
        help_text=_("e.g. Professor, Director of the spasticity clinic"),
    )
    specialties = models.ManyToManyField(
        Specialty, related_name="doctors", blank=True, verbose_name=_("specialties")
    )
    focus_conditions: "models.ManyToManyField[Condition, models.Model]" = models.ManyToManyField(
        Condition,
        related_name="focused_doctors",
        blank=True,
        verbose_name=_("conditions of special interest"),
    )
    focus_treatments: "models.ManyToManyField[Treatment, models.Model]" = models.ManyToManyField(
        Treatment,
        related_name="focused_doctors",
        blank=True,
        verbose_name=_("treatments of special interest"),
    )
    languages = models.JSONField(
        _("languages spoken"),
        default=list,
        blank=True,
        validators=[validate_language_codes],
        help_text=_('Language codes, e.g. ["en", "ru"].'),
    )
    practising_since = models.PositiveSmallIntegerField(
        _("practising since (year)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(EARLIEST_PRACTISING_SINCE), validate_not_future_year],
        help_text=_("The year the doctor first practised as a physician; the page shows the years since."),
    )
    training = models.TextField(
        _("training"), blank=True, help_text=_("Medical school, residency and fellowships, one per line.")
    )
    board_certification = models.TextField(
        _("board certification"), blank=True, help_text=_("Specialist boards and licences, one per line.")
    )
    photo = models.ImageField(
        _("photo"),
        upload_to="clinic-photos/",
        storage=public_media_storage,
        width_field="photo_width",
        height_field="photo_height",
        blank=True,
    )
    # Empty without a photo (Django clears them when the photo is removed).
    photo_width = models.PositiveIntegerField(editable=False, null=True)
    photo_height = models.PositiveIntegerField(editable=False, null=True)
    # As ``ClinicPhoto.renditions``: {"image/webp": {"480": name, …}, "image/jpeg": {…}}
    photo_renditions = models.JSONField(default=dict, blank=True, editable=False)
    photo_alt_text = models.CharField(
        _("photo text alternative"),
        max_length=250,
        blank=True,
        help_text=_(
            "What the photo shows, for patients who cannot see it, e.g. “Dr Kim in her clinic room”."
        ),
    )
    is_published = models.BooleanField(_("published"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    objects = DoctorQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = pgettext_lazy("physician", "doctor")
        verbose_name_plural = pgettext_lazy("physician", "doctors")
        constraints = [
            models.UniqueConstraint(fields=["clinic", "slug"], name="unique_doctor_slug_per_clinic"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("clinics:doctor", kwargs={"clinic_slug": self.clinic.slug, "slug": self.slug})

    @property
    def is_sample(self) -> bool:
        return self.clinic.is_sample

    def speaks(self, language: str) -> bool:
        return language in self.languages

    def years_in_practice(self, today: datetime.date | None = None) -> int | None:
        if self.practising_since is None:
            return None
        return max((today or timezone.localdate()).year - self.practising_since, 0)

    @property
    def portrait(self) -> PhotoImage | None:
        """The photo for ``{% clinic_photo %}``, or None without one."""
        if not self.photo:
            return None
        return PhotoImage(
            image=self.photo,
            renditions=self.photo_renditions,
            width=self.photo_width,  # type: ignore[arg-type]  # set with the photo (width_field)
            height=self.photo_height,  # type: ignore[arg-type]
            alt_text=self.photo_alt_text,
        )


class PhotoSubject(models.TextChoices):
    BUILDING = "building", _("Building")
    ROOM = "room", _("Patient room")
    EQUIPMENT = "equipment", _("Equipment")
    THERAPY = "therapy", _("Therapy area")
    OTHER = "other", _("Other")


class ClinicPhoto(models.Model):
    """A photo of a clinic, re-encoded on upload (``clinics.photos``) and stored in a few widths, as
    WebP and JPEG, for responsive ``srcset``. ``image`` is the largest JPEG."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="photos")
    subject = models.CharField(
        _("shows"), max_length=20, choices=PhotoSubject.choices, default=PhotoSubject.BUILDING
    )
    image = models.ImageField(
        _("photo"),
        upload_to="clinic-photos/",
        storage=public_media_storage,
        width_field="width",
        height_field="height",
    )
    width = models.PositiveIntegerField(editable=False, default=0)
    height = models.PositiveIntegerField(editable=False, default=0)
    # {"image/webp": {"480": "clinic-photos/…-480.webp", …}, "image/jpeg": {…}}
    renditions = models.JSONField(default=dict, blank=True, editable=False)
    alt_text = models.CharField(
        _("text alternative"),
        max_length=250,
        help_text=_(
            "What the photo shows, for patients who cannot see it, e.g. “Main entrance on Yulgok-ro”."
        ),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("clinic photo")
        verbose_name_plural = _("clinic photos")

    def __str__(self) -> str:
        return self.alt_text or self.image.name


def _localized_fieldnames(*fields: str) -> list[str]:
    return [build_localized_fieldname(field, code) for field in fields for code, _name in settings.LANGUAGES]


def clinic_search_texts(clinic: Clinic, conditions: Iterable[Condition] | None = None) -> tuple[str, str]:
    """(search text, names) normalized for ``ClinicQuerySet.search`` and its ranking.

    The search text holds, in every language, the names, city and district; the treatments offered
    with their other names (brands, everyday words); the specialties; and the names and other names
    of the published conditions the clinic treats (the rule of ``ClinicQuerySet.treating``), so that
    a patient finds a clinic by the word they know. ``conditions``: those conditions when the caller
    already has them (a bulk rebuild); otherwise they are looked up (one query).
    """
    names = [clinic.legal_name_ko, clinic.slug.replace("-", " ")]
    parts = [clinic.address_ko, clinic.address_en]
    treatments = list(clinic.treatments.all())
    specialties = list(clinic.specialties.all())
    if conditions is None:
        conditions = Condition.objects.published().treated_by(
            treatment_ids=[treatment.pk for treatment in treatments],
            specialty_ids=[specialty.pk for specialty in specialties],
        )
    conditions = list(conditions)
    for code, _name in settings.LANGUAGES:
        names.append(getattr(clinic, build_localized_fieldname("name", code)) or "")
        parts.append(getattr(clinic, build_localized_fieldname("district", code)) or "")
        for treatment in treatments:
            parts.append(getattr(treatment, build_localized_fieldname("name", code)) or "")
            parts.append(getattr(treatment, build_localized_fieldname("synonyms", code)) or "")
        for specialty in specialties:
            parts.append(getattr(specialty, build_localized_fieldname("name", code)) or "")
        for condition in conditions:
            parts.append(getattr(condition, build_localized_fieldname("name", code)) or "")
            parts.append(getattr(condition, build_localized_fieldname("other_names", code)) or "")
        with translation.override(code):
            parts.append(str(City(clinic.city).label))
    search_names = normalize(" \n".join(dict.fromkeys(name for name in names if name)))
    return normalize(" \n".join([search_names, *(part for part in parts if part)])), search_names
