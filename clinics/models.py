"""Korean clinics: who they are, what they treat, and what they offer international patients."""

import datetime
import operator
from functools import reduce

from django.conf import settings
from django.contrib.postgres.search import TrigramWordSimilarity
from django.core.files.storage import storages
from django.db import connections, models
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from modeltranslation.utils import build_localized_fieldname
from phonenumber_field.modelfields import PhoneNumberField

from conditions.models import Condition, Specialty, Treatment, written_words
from conditions.search import SearchTextQuerySet, display_words, normalize, search_terms

# Upkeep the clinic manager is shown: accreditations about to lapse, registrations to check again.
ACCREDITATION_EXPIRY_NOTICE_DAYS = 90
REGISTRATION_VERIFICATION_DAYS = 365


def public_media_storage():
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


class ClinicQuerySet(SearchTextQuerySet):
    def published(self):
        return self.filter(is_published=True)

    def in_city(self, city):
        return self.filter(city=city)

    def practising(self, specialty_slug):
        return self.filter(specialties__slug=specialty_slug)

    def offering(self, treatment_slug):
        return self.filter(clinic_treatments__treatment__slug=treatment_slug)

    def speaking(self, language):
        return self.filter(Exists(ClinicLanguage.objects.filter(clinic=OuterRef("pk"), language=language)))

    def accredited(self, kind, today=None):
        current = Accreditation.objects.current(today).filter(clinic=OuterRef("pk"), kind=kind)
        return self.filter(Exists(current))

    def accreditation_expiring(self, today=None):
        """Clinics with an accreditation that lapses within the notice period (not one already lapsed)."""
        expiring = Accreditation.objects.expiring(today).filter(clinic=OuterRef("pk"))
        return self.filter(Exists(expiring))

    def registration_unverified(self, today=None):
        """Clinics whose registration was last verified over a year ago, and published clinics whose
        registration was never verified."""
        today = today or timezone.localdate()
        since = today - datetime.timedelta(days=REGISTRATION_VERIFICATION_DAYS)
        return self.filter(
            Q(registration_verified_on__lt=since)
            | Q(registration_verified_on__isnull=True, is_published=True)
        )

    def with_services(self, services):
        queryset = self
        for service in services:
            queryset = queryset.filter(
                Exists(ClinicService.objects.filter(clinic=OuterRef("pk"), service=service))
            )
        return queryset

    def ranked_by_search(self, query):
        """On PostgreSQL, the closest trigram matches first; elsewhere alphabetical."""
        terms = " ".join(search_terms(query))
        if not terms or connections[self.db].vendor != "postgresql":
            return self.order_by_name()
        # Similarity to the names only: short texts keep ranking fast, and a name match outranks
        # a clinic that matched on a treatment or city alone.
        return self.annotate(search_rank=TrigramWordSimilarity(terms, "search_names")).order_by(
            "-search_rank", *self._name_ordering()
        )

    # Near misses are looked for by similarity of the names: the whole search text of many clinics
    # (every condition they treat, in eight languages) is too long to compare quickly.
    search_similarity_field = "search_names"

    def search_vocabulary(self):
        """Names patients misspell: conditions, treatments (with their other names) and specialties,
        in every language (three queries)."""
        return {
            **written_words(Condition.objects.published(), "name", "other_names"),
            **written_words(Treatment.objects.all(), "name", "synonyms"),
            **written_words(Specialty.objects.all(), "name"),
        }

    def search_written_words(self, clinics):
        return display_words(
            getattr(clinic, field) for clinic in clinics for field in _localized_fieldnames("name")
        )

    def order_by_name(self):
        return self.order_by(*self._name_ordering())

    def _name_ordering(self):
        localized = build_localized_fieldname("name", get_language() or settings.LANGUAGE_CODE)
        return [Coalesce(NullIf(F(localized), Value("")), F("name_en")).asc(), "pk"]

    def treating(self, condition):
        """Clinics offering one of the condition's treatments or practising one of its specialties."""
        matched_treatments, matched_specialties = _matches(*_condition_links(condition))
        return self._having_any(matched_treatments, matched_specialties)

    def _having_any(self, *links):
        return self.filter(reduce(operator.or_, (Exists(link) for link in links)))

    def for_condition(self, condition, language=None, today=None):
        """``treating(condition)``, each clinic annotated with what matched, best match first.

        The order is the published ranking (the "How we rank clinics" page): clinics supporting the
        reader's language first, then by the condition's clinical treatments offered, its specialties
        practised, current accreditations, then name.
        """
        language = language or get_language()
        treatment_ids, specialty_ids = _condition_links(condition)
        matched_treatments, matched_specialties = _matches(treatment_ids, specialty_ids)
        current_accreditations = Accreditation.objects.current(today).filter(clinic=OuterRef("pk"))
        return (
            self._having_any(matched_treatments, matched_specialties)
            .annotate(
                speaks_reader_language=Exists(
                    ClinicLanguage.objects.filter(clinic=OuterRef("pk"), language=language)
                ),
                matched_treatment_count=_count(matched_treatments),
                matched_specialty_count=_count(matched_specialties),
                current_accreditation_count=_count(current_accreditations),
            )
            .order_by(*RANKING_ORDER, *self._name_ordering())
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

    def with_card_details(self, today=None):
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


# The published ranking rules, in order (see the ranking page); ties are broken by name.
RANKING_ORDER = (
    "-speaks_reader_language",
    "-matched_treatment_count",
    "-matched_specialty_count",
    "-current_accreditation_count",
)


def _condition_links(condition):
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


def _matches(treatment_ids, specialty_ids):
    """A clinic's (``OuterRef("pk")``) links to these treatments and to these specialties."""
    return (
        ClinicTreatment.objects.filter(clinic=OuterRef("pk"), treatment_id__in=treatment_ids),
        Clinic.specialties.through.objects.filter(clinic=OuterRef("pk"), specialty_id__in=specialty_ids),
    )


def _count(subquery):
    counted = subquery.order_by().values("clinic").annotate(count=Count("pk")).values("count")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


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
    treatments = models.ManyToManyField(
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

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("clinics:detail", kwargs={"slug": self.slug})

    def publication_problems(self, *, specialties=None, languages=None):
        """What stops this clinic from being published: {field: translated message}, empty when
        nothing does. ``specialties`` and ``languages`` are what an editor is about to save (default:
        what is saved)."""
        if specialties is None:
            specialties = self.specialties.all() if self.pk else []
        if languages is None:
            languages = self.languages.all() if self.pk else []
        problems = {}
        if not self.foreign_patient_registration_number.strip():
            problems["foreign_patient_registration_number"] = _(
                "A published clinic needs its foreign-patient attraction registration number."
            )
        if not specialties:
            problems["specialties"] = _("A published clinic needs at least one specialty.")
        if not languages:
            problems["languages"] = _("A published clinic needs at least one supported language.")
        return problems

    def speaks(self, language):
        return any(row.language == language for row in self.languages.all())

    def language_codes(self):
        return sorted({row.language for row in self.languages.all()}, key=_language_order)

    def roles_speaking(self, language):
        return [row.get_role_display() for row in self.languages.all() if row.language == language]

    @property
    def map_url(self):
        if self.latitude is None or self.longitude is None:
            return ""
        return f"https://www.openstreetmap.org/?mlat={self.latitude}&mlon={self.longitude}#map=17/{self.latitude}/{self.longitude}"


def _language_order(code):
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

    def __str__(self):
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

    def __str__(self):
        return f"{self.get_language_display()} ({self.get_role_display()})"


class ClinicService(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="services")
    service = models.CharField(_("service"), max_length=32, choices=Service.choices)

    class Meta:
        ordering = ["service"]
        constraints = [models.UniqueConstraint(fields=["clinic", "service"], name="unique_clinic_service")]
        verbose_name = _("international service")
        verbose_name_plural = _("international services")

    def __str__(self):
        return self.get_service_display()


class AccreditationQuerySet(models.QuerySet):
    def current(self, today=None):
        today = today or timezone.localdate()
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today)).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=today)
        )

    def expiring(self, today=None):
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

    def __str__(self):
        return self.get_kind_display()


class Doctor(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="doctors")
    name = models.CharField(_("name"), max_length=120)
    title = models.CharField(
        _("title"),
        max_length=120,
        blank=True,
        help_text=_("e.g. Professor, Director of the spasticity clinic"),
    )
    specialty = models.ForeignKey(
        Specialty, on_delete=models.PROTECT, related_name="doctors", verbose_name=_("specialty")
    )
    languages = models.JSONField(
        _("languages spoken"), default=list, blank=True, help_text=_('Language codes, e.g. ["en", "ru"].')
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = pgettext_lazy("physician", "doctor")
        verbose_name_plural = pgettext_lazy("physician", "doctors")

    def __str__(self):
        return self.name


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

    def __str__(self):
        return self.alt_text or self.image.name


def _localized_fieldnames(*fields):
    return [build_localized_fieldname(field, code) for field in fields for code, _name in settings.LANGUAGES]


def clinic_search_texts(clinic, conditions=None):
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
