"""The one owner of clinics' search texts: whatever changes what a clinic is found by brings it up to date.

A clinic's search text holds its names, city and district, its treatments (names and other names),
its specialties and the published conditions it treats (see ``clinic_search_texts``). Its own saves,
its treatments and specialties, and the medical knowledge they point to (``conditions`` must not know
about clinics, so the clinics app listens to its saves) all end here, whoever makes the change: the
admin, an import, the demo loader, a shell. Each receiver only works out which clinics are affected;
``clinics_refresh_search_text_on_commit`` rebuilds them once the transaction commits (through the task
worker when many are affected). ``update()`` and ``bulk_create()`` of a clinic's treatments send no
signals, but a clinic saved in the same transaction is rebuilt at its commit, which reads them;
``manage.py rebuild_search_text`` rebuilds everything.
"""

from django.conf import settings
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from modeltranslation.utils import build_localized_fieldname

from clinics.models import Clinic, ClinicTreatment
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


def _concerns_clinics(kwargs, fields):
    update_fields = kwargs.get("update_fields")
    return not kwargs.get("raw") and (update_fields is None or bool(fields & set(update_fields)))


def _refresh(clinics):
    clinics_refresh_search_text_on_commit(clinic_ids=set(clinics.values_list("pk", flat=True)))


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


@receiver(post_save, sender=ClinicTreatment, dispatch_uid="clinics_clinic_treatment_saved")
@receiver(post_delete, sender=ClinicTreatment, dispatch_uid="clinics_clinic_treatment_deleted")
def clinic_treatment_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        clinics_refresh_search_text_on_commit(clinic_ids={instance.clinic_id})


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


@receiver(post_save, sender=Treatment, dispatch_uid="clinics_treatment_saved")
def treatment_saved(sender, instance, **kwargs):
    if _concerns_clinics(kwargs, TREATMENT_FIELDS):
        _refresh(_offering([instance.pk]))


@receiver(post_save, sender=Specialty, dispatch_uid="clinics_specialty_saved")
def specialty_saved(sender, instance, **kwargs):
    if _concerns_clinics(kwargs, SPECIALTY_FIELDS):
        _refresh(_practising([instance.pk]))


@receiver(pre_delete, sender=Specialty, dispatch_uid="clinics_specialty_deleting")
def specialty_deleting(sender, instance, **kwargs):
    instance._clinics_to_refresh = list(_practising([instance.pk]).values_list("pk", flat=True))


@receiver(post_save, sender=Condition, dispatch_uid="clinics_condition_saved")
def condition_saved(sender, instance, **kwargs):
    if _concerns_clinics(kwargs, CONDITION_FIELDS):
        _refresh(_linked_to(instance))


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
