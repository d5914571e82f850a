"""The one owner of what is derived from clinics: their search texts and the match table.

Whatever changes what a clinic is found by, or how it matches a condition, brings it up to date.

A clinic's search text holds its names, city and district, its treatments (names and other names),
its specialties and the published conditions it treats (see ``clinic_search_texts``). Its own saves,
its treatments and specialties, and the medical knowledge they point to (``conditions`` must not know
about clinics, so the clinics app listens to its saves) all end here, whoever makes the change: the
admin, an import, the demo loader, a shell. Each receiver only works out which clinics are affected;
``clinics_refresh_search_text_on_commit`` rebuilds them once the transaction commits (through the task
worker when many are affected). ``update()`` and ``bulk_create()`` of a clinic's treatments send no
signals, but a clinic saved in the same transaction is rebuilt at its commit, which reads them;
``manage.py rebuild_search_text`` rebuilds everything.

The match table (``clinics.match_table``) follows the same path: a receiver works out the clinics a
change touches, ``clinic_matches_refresh_on_commit`` rebuilds their rows at the commit. It depends on
less text (names only) and on more links: the clinic's languages and accreditations too.
``manage.py rebuild_clinic_matches`` rebuilds it (nightly: accreditations lapse by date).
"""

from django.conf import settings
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from modeltranslation.utils import build_localized_fieldname

from clinics.match_table import clinic_matches_refresh_on_commit
from clinics.models import Accreditation, Clinic, ClinicLanguage, ClinicTreatment
from clinics.services import clinics_refresh_search_text_on_commit
from conditions.models import Condition, ConditionTreatment, Specialty, Treatment


def _searched_fields(*fields):
    return {
        *fields,
        *(build_localized_fieldname(f, code) for f in fields for code, _name in settings.LANGUAGES),
    }


# Saving only other fields (a review date, the condition's own search text) changes no clinic.
CLINIC_FIELDS = {
    *_searched_fields("name", "district"),
    "legal_name_ko",
    "slug",
    "city",
    "address_ko",
    "address_en",
}
TREATMENT_FIELDS = _searched_fields("name", "synonyms", "is_clinical_service")
SPECIALTY_FIELDS = _searched_fields("name")
CONDITION_FIELDS = {*_searched_fields("name", "other_names"), "status", "published_at"}
# What the match table copies or counts: the clinic's name (ties are ordered by it), and whether a
# treatment is a ground for matching at all.
CLINIC_MATCH_FIELDS = _searched_fields("name")
TREATMENT_MATCH_FIELDS = {"is_clinical_service"}


def _concerns_clinics(kwargs, fields):
    update_fields = kwargs.get("update_fields")
    return not kwargs.get("raw") and (update_fields is None or bool(fields & set(update_fields)))


def _refresh(clinics, *, matches=True):
    """Rebuild these clinics' search texts, and their match rows unless told the change cannot
    alter them."""
    clinic_ids = set(clinics.values_list("pk", flat=True))
    clinics_refresh_search_text_on_commit(clinic_ids=clinic_ids)
    if matches:
        clinic_matches_refresh_on_commit(clinic_ids=clinic_ids)


def _offering(treatment_ids):
    return Clinic.objects.filter(clinic_treatments__treatment_id__in=treatment_ids)


def _practising(specialty_ids):
    return Clinic.objects.filter(specialties__in=specialty_ids)


def _linked_to(condition):
    """Clinics sharing a treatment or a specialty with the condition (whether it counts or not)."""
    return Clinic.objects.filter(
        Q(clinic_treatments__treatment__condition_links__condition=condition)
        | Q(specialties__conditions=condition)
    )


@receiver(post_save, sender=Clinic, dispatch_uid="clinics_clinic_saved")
def clinic_saved(sender, instance, **kwargs):
    if _concerns_clinics(kwargs, CLINIC_FIELDS):
        clinics_refresh_search_text_on_commit(clinic_ids={instance.pk})
    if _concerns_clinics(kwargs, CLINIC_MATCH_FIELDS):
        clinic_matches_refresh_on_commit(clinic_ids={instance.pk})


@receiver(post_save, sender=ClinicTreatment, dispatch_uid="clinics_clinic_treatment_saved")
@receiver(post_delete, sender=ClinicTreatment, dispatch_uid="clinics_clinic_treatment_deleted")
def clinic_treatment_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        clinics_refresh_search_text_on_commit(clinic_ids={instance.clinic_id})
        clinic_matches_refresh_on_commit(clinic_ids={instance.clinic_id})


@receiver(post_save, sender=ClinicLanguage, dispatch_uid="clinics_clinic_language_saved")
@receiver(post_delete, sender=ClinicLanguage, dispatch_uid="clinics_clinic_language_deleted")
@receiver(post_save, sender=Accreditation, dispatch_uid="clinics_accreditation_saved")
@receiver(post_delete, sender=Accreditation, dispatch_uid="clinics_accreditation_deleted")
def clinic_ranking_fact_changed(sender, instance, raw=False, **kwargs):
    """A language the clinic supports or an accreditation: what the ranking counts, not the search."""
    if not raw:
        clinic_matches_refresh_on_commit(clinic_ids={instance.clinic_id})


@receiver(m2m_changed, sender=Clinic.specialties.through, dispatch_uid="clinics_clinic_specialties")
def clinic_specialties_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A clinic gained or lost specialties (or a specialty clinics)."""
    if action == "pre_clear" and reverse:
        instance._cleared_clinic_ids = list(instance.clinics.values_list("pk", flat=True))
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    if not reverse:
        clinic_ids = {instance.pk}
    elif action == "post_clear":
        clinic_ids = set(getattr(instance, "_cleared_clinic_ids", []))
    else:
        clinic_ids = set(pk_set or ())
    clinics_refresh_search_text_on_commit(clinic_ids=clinic_ids)
    clinic_matches_refresh_on_commit(clinic_ids=clinic_ids)


@receiver(pre_save, sender=Treatment, dispatch_uid="clinics_treatment_saving")
def treatment_saving(sender, instance, raw=False, **kwargs):
    """Remember whether the treatment was a clinical service: only a change of that alters matches."""
    if not raw and instance.pk is not None:
        instance._was_clinical_service = (
            Treatment.objects.filter(pk=instance.pk).values_list("is_clinical_service", flat=True).first()
        )


@receiver(post_save, sender=Treatment, dispatch_uid="clinics_treatment_saved")
def treatment_saved(sender, instance, **kwargs):
    if _concerns_clinics(kwargs, TREATMENT_FIELDS):
        changed_ground = _concerns_clinics(kwargs, TREATMENT_MATCH_FIELDS) and (
            getattr(instance, "_was_clinical_service", None) != instance.is_clinical_service
        )
        _refresh(_offering([instance.pk]), matches=changed_ground)


@receiver(post_save, sender=Specialty, dispatch_uid="clinics_specialty_saved")
def specialty_saved(sender, instance, **kwargs):
    if _concerns_clinics(kwargs, SPECIALTY_FIELDS):
        _refresh(_practising([instance.pk]), matches=False)


@receiver(pre_delete, sender=Specialty, dispatch_uid="clinics_specialty_deleting")
def specialty_deleting(sender, instance, **kwargs):
    instance._clinics_to_refresh = list(_practising([instance.pk]).values_list("pk", flat=True))


@receiver(post_save, sender=Condition, dispatch_uid="clinics_condition_saved")
def condition_saved(sender, instance, **kwargs):
    if _concerns_clinics(kwargs, CONDITION_FIELDS):
        # The table holds every condition, published or not: its links alone decide the matches.
        _refresh(_linked_to(instance), matches=False)


@receiver(pre_delete, sender=Condition, dispatch_uid="clinics_condition_deleting")
def condition_deleting(sender, instance, **kwargs):
    instance._clinics_to_refresh = list(_linked_to(instance).values_list("pk", flat=True))


@receiver(post_delete, sender=Specialty, dispatch_uid="clinics_specialty_deleted")
@receiver(post_delete, sender=Condition, dispatch_uid="clinics_condition_deleted")
def knowledge_deleted(sender, instance, **kwargs):
    _refresh(Clinic.objects.filter(pk__in=getattr(instance, "_clinics_to_refresh", [])))


@receiver(pre_save, sender=ConditionTreatment, dispatch_uid="clinics_condition_treatment_saving")
def condition_treatment_saving(sender, instance, raw=False, **kwargs):
    """Remember the treatment the link pointed to, should the save change it."""
    if not raw and instance.pk is not None:
        instance._previous_treatment_ids = list(
            ConditionTreatment.objects.filter(pk=instance.pk).values_list("treatment_id", flat=True)
        )


@receiver(post_save, sender=ConditionTreatment, dispatch_uid="clinics_condition_treatment_saved")
@receiver(post_delete, sender=ConditionTreatment, dispatch_uid="clinics_condition_treatment_deleted")
def condition_treatment_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        _refresh(_offering([instance.treatment_id, *getattr(instance, "_previous_treatment_ids", [])]))


@receiver(m2m_changed, sender=Condition.specialties.through, dispatch_uid="clinics_condition_specialties")
def condition_specialties_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A condition gained or lost specialties (or a specialty conditions): its practitioners change."""
    if action == "pre_clear" and not reverse:
        instance._cleared_specialty_ids = list(instance.specialties.values_list("pk", flat=True))
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    if reverse:
        specialty_ids = [instance.pk]
    elif action == "post_clear":
        specialty_ids = getattr(instance, "_cleared_specialty_ids", [])
    else:
        specialty_ids = list(pk_set or ())
    if specialty_ids:
        _refresh(_practising(specialty_ids))
