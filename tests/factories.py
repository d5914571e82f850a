"""Small factories: each returns a saved object with sensible defaults that a test can override."""

import datetime
import itertools
import uuid

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


def make_doctor(clinic, *, specialties=(), focus_conditions=(), focus_treatments=(), **fields):
    from clinics.models import Doctor

    number = next(_sequence)
    fields.setdefault("slug", f"doctor-{number}")
    fields.setdefault("name_en", f"Doctor {number}")
    doctor = Doctor.objects.create(clinic=clinic, **fields)
    doctor.specialties.set(specialties)
    doctor.focus_conditions.set(focus_conditions)
    doctor.focus_treatments.set(focus_treatments)
    return doctor


def make_inquiry(*, status="received", condition=None, preferred_clinics=(), timeline=True, **fields):
    """A stored request in any status, without the demo content and without the request form.

    Returns (inquiry, follow-up token). ``timeline`` adds the entries its status implies: received,
    then one status change per step of the way the workflow allows to ``status``.
    """
    from django.utils import timezone

    from inquiries.models import Inquiry, InquiryStatus, TimelineEntry, TimelineKind

    number = next(_sequence)
    fields.setdefault("full_name", f"Patient {number}")
    fields.setdefault("email", f"patient{number}@example.com")
    fields.setdefault("contact_channel", "email")
    fields.setdefault("country", "KZ")
    fields.setdefault("language", "ru")
    fields.setdefault("patient_relation", "self")
    fields.setdefault("patient_age", 40)
    fields.setdefault("symptom_duration", "1_6_months")
    fields.setdefault("message", f"Question {number} about treatment in Korea.")
    fields.setdefault("consent_health_data_at", timezone.now())
    fields.setdefault("consent_health_data_text", "I agree to the processing of my health data.")
    fields.setdefault("consent_health_data_version", "2026-11-01")
    fields.setdefault("submission_key", uuid.uuid4())
    if status == InquiryStatus.CLOSED:
        fields.setdefault("closed_at", timezone.now())
        fields.setdefault("closing_reason", "booked")
    inquiry = Inquiry(status=status, condition=condition, **fields)
    token = inquiry.set_follow_up_token()
    inquiry.save()
    inquiry.preferred_clinics.set(preferred_clinics)
    if timeline:
        TimelineEntry.objects.create(inquiry=inquiry, kind=TimelineKind.CREATED)
        previous = InquiryStatus.RECEIVED
        for step in _path_to(InquiryStatus(status)):
            make_timeline_entry(inquiry, kind=TimelineKind.STATUS, old_status=previous, new_status=step)
            previous = step
    return inquiry, token


def _path_to(status):
    """The shortest way the workflow allows from "received" to ``status`` (without the start)."""
    from inquiries.models import ALLOWED_TRANSITIONS, InquiryStatus

    paths = {InquiryStatus.RECEIVED: []}
    queue = [InquiryStatus.RECEIVED]
    while queue:
        current = queue.pop(0)
        for following in sorted(ALLOWED_TRANSITIONS[current]):
            if following not in paths:
                paths[following] = [*paths[current], following]
                queue.append(following)
    return paths[status]


def make_timeline_entry(inquiry, *, kind="note", body="", is_public=None, author=None, **fields):
    from inquiries.models import TimelineEntry, TimelineKind

    if is_public is None:
        is_public = kind not in (TimelineKind.NOTE, TimelineKind.ASSIGNED)
    return TimelineEntry.objects.create(
        inquiry=inquiry, kind=kind, body=body, is_public=is_public, author=author, **fields
    )


# What ``tests.support.patients.valid_data`` chooses on the request form.
REQUEST_CONDITION = "clonus"
REQUEST_CLINICS = ("hanbit-neuroscience-hospital", "busan-haeundae-neuro-centre", "gangnam-movement-clinic")
UNRELATED_CLINIC = "songdo-joint-hospital"


def make_request_choices():
    """The condition and clinics the request form's valid data chooses, without the demo content.

    Returns (condition, {slug: clinic}): the condition "clonus", three published clinics that treat
    it (its clinical treatment) and one published clinic that does not.
    """
    # As a committed transaction leaves them: the clinics' matches are kept at the commit.
    with TestCase.captureOnCommitCallbacks(execute=True):
        treatment = make_treatment(category=TreatmentCategory.MEDICATION, name_en="Baclofen")
        condition = make_condition(slug=REQUEST_CONDITION, name_en="Clonus")
        condition.condition_treatments.create(treatment=treatment, position=0)
    clinics = {
        slug: make_clinic(slug=slug, name_en=slug.replace("-", " ").title(), treatments=[treatment])
        for slug in REQUEST_CLINICS
    }
    clinics[UNRELATED_CLINIC] = make_clinic(slug=UNRELATED_CLINIC, name_en="Songdo Joint Hospital")
    return condition, clinics
