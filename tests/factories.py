"""Small factories: each returns a saved object with sensible defaults that a test can override."""

import datetime
import itertools

from django.test import TestCase

from conditions.models import (
    Condition,
    ConditionItem,
    ConditionSection,
    ConditionStatus,
    ConditionTreatment,
    Specialty,
    Treatment,
    TreatmentCategory,
)

_sequence = itertools.count(1)


def make_specialty(**fields):
    number = next(_sequence)
    fields.setdefault("slug", f"specialty-{number}")
    fields.setdefault("name_en", f"Specialty {number}")
    return Specialty.objects.create(**fields)


def make_treatment(**fields):
    number = next(_sequence)
    fields.setdefault("slug", f"treatment-{number}")
    fields.setdefault("name_en", f"Treatment {number}")
    fields.setdefault("category", TreatmentCategory.PHYSICAL_THERAPY)
    return Treatment.objects.create(**fields)


def make_condition(*, symptoms=0, causes=0, treatments=0, **fields):
    number = next(_sequence)
    fields.setdefault("slug", f"condition-{number}")
    fields.setdefault("name_en", f"Condition {number}")
    fields.setdefault("summary_en", f"Summary of condition {number}.")
    fields.setdefault("overview_en", f"Overview of condition {number}.")
    fields.setdefault("definition_en", f"Definition of condition {number}.")
    fields.setdefault("status", ConditionStatus.PUBLISHED)
    # What publication requires (Condition.publication_problems).
    fields.setdefault("symptoms_intro_en", f"Symptoms of condition {number}.")
    fields.setdefault("care_intro_en", f"Care for condition {number}.")
    fields.setdefault("reviewer_name_en", "Dr Kim Jisoo")
    fields.setdefault("reviewer_credentials_en", "Neurologist")
    fields.setdefault("last_reviewed", datetime.date(2026, 1, 15))
    fields.setdefault("next_review_due", datetime.date(2099, 1, 15))
    condition = Condition.objects.create(**fields)
    for position in range(symptoms):
        ConditionItem.objects.create(
            condition=condition,
            section=ConditionSection.SYMPTOM,
            text_en=f"Symptom {position}",
            position=position,
        )
    for position in range(causes):
        ConditionItem.objects.create(
            condition=condition,
            section=ConditionSection.CAUSE,
            title_en=f"Cause {position}",
            text_en=f"Explanation {position}",
            position=position,
        )
    categories = list(TreatmentCategory)
    for position in range(treatments):
        ConditionTreatment.objects.create(
            condition=condition,
            treatment=make_treatment(category=categories[position % len(categories)]),
            note_en=f"note {position}",
            position=position,
        )
    if treatments:
        condition.specialties.add(make_specialty())
    return condition


def make_clinic(*, treatments=(), specialties=(), **fields):
    from clinics.models import Clinic, ClinicKind, ClinicTreatment

    number = next(_sequence)
    fields.setdefault("slug", f"clinic-{number}")
    fields.setdefault("name_en", f"Clinic {number}")
    fields.setdefault("legal_name_ko", f"클리닉 {number}")
    fields.setdefault("kind", ClinicKind.CLINIC)
    fields.setdefault("city", "seoul")
    fields.setdefault("address_ko", "서울특별시")
    fields.setdefault("address_en", "Seoul")
    fields.setdefault("is_published", True)
    # As a committed transaction leaves it: the search text is rebuilt at the commit.
    with TestCase.captureOnCommitCallbacks(execute=True):
        clinic = Clinic.objects.create(**fields)
        clinic.specialties.set(specialties)
        ClinicTreatment.objects.bulk_create(
            ClinicTreatment(clinic=clinic, treatment=treatment) for treatment in treatments
        )
    return clinic
