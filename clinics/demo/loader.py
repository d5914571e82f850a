"""Demo clinics: fictional, marked as sample data, with names and descriptions in every language.

English and structure live in ``clinics.json``; other languages in flat ``i18n/<language>.json`` maps
keyed as in ``english_strings``. Loading is idempotent: clinics are found by slug and rebuilt.
"""

import datetime
import json
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from clinics.models import Accreditation, Clinic, ClinicLanguage, ClinicService, ClinicTreatment, Doctor
from conditions.demo.loader import create_with_history, localized_values, read_translations
from conditions.models import Condition, Specialty, Treatment

DEMO_DIR = Path(__file__).resolve().parent
DOCTOR_TEXT_FIELDS = ("name", "title", "training", "board_certification")


def clinics_data():
    return json.loads((DEMO_DIR / "clinics.json").read_text(encoding="utf-8"))


def translations():
    return read_translations(DEMO_DIR)


def english_strings():
    strings = {}
    for clinic in clinics_data():
        prefix = f"clinic.{clinic['slug']}"
        for field in ("name", "district", "description"):
            if clinic[field]:
                strings[f"{prefix}.{field}"] = clinic[field]
        for number, doctor in enumerate(clinic["doctors"], start=1):
            for field in DOCTOR_TEXT_FIELDS:
                strings[f"{prefix}.doctor.{number}.{field}"] = doctor[field]
        for link in clinic["treatments"]:
            if link["note"]:
                strings[f"{prefix}.treatment.{link['treatment']}.note"] = link["note"]
    return strings


def _date(value):
    return datetime.date.fromisoformat(value) if value else None


@transaction.atomic
def load():
    translated = translations()
    specialties = {specialty.slug: specialty for specialty in Specialty.objects.all()}
    treatments = {treatment.slug: treatment for treatment in Treatment.objects.all()}
    data = clinics_data()
    for row in data:
        _load_clinic(row, specialties, treatments, translated)
    return f"{len(data)} sample clinics"


def _load_clinic(row, specialties, treatments, translated):
    prefix = f"clinic.{row['slug']}"
    defaults = {
        "legal_name_ko": row["legal_name_ko"],
        "kind": row["kind"],
        "city": row["city"],
        "address_ko": row["address_ko"],
        "address_en": row["address_en"],
        "latitude": Decimal(str(row["latitude"])),
        "longitude": Decimal(str(row["longitude"])),
        "phone": row["phone"],
        "website": row["website"],
        "contact_email": row["contact_email"],
        "contact_language": row["contact_language"],
        "year_founded": row["year_founded"],
        "bed_count": row["bed_count"],
        "has_international_centre": row["has_international_centre"],
        "foreign_patient_registration_number": row["foreign_patient_registration_number"],
        "registration_verified_on": _date(row["registration_verified_on"]),
        "is_published": row["is_published"],
        "is_sample": True,
    }
    for field in ("name", "district", "description"):
        defaults.update(localized_values(f"{prefix}.{field}", row[field], field, translated))
    if row["is_published"]:
        problems = Clinic(slug=row["slug"], **defaults).publication_problems(
            specialties=row["specialties"], languages=row["languages"]
        )
        if problems:
            raise ValidationError(f"Demo clinic {row['slug']}: {' '.join(map(str, problems.values()))}")
    clinic, _created = Clinic.objects.update_or_create(slug=row["slug"], defaults=defaults)
    clinic.specialties.set([specialties[slug] for slug in row["specialties"]])

    clinic.clinic_treatments.all().delete()
    create_with_history(
        ClinicTreatment,
        [
            ClinicTreatment(
                clinic=clinic,
                treatment=treatments[link["treatment"]],
                price_min_krw=link["price_min_krw"],
                price_max_krw=link["price_max_krw"],
                typical_stay_days=link["typical_stay_days"],
                **localized_values(
                    f"{prefix}.treatment.{link['treatment']}.note", link["note"], "note", translated
                ),
            )
            for link in row["treatments"]
        ],
    )
    clinic.languages.all().delete()
    create_with_history(
        ClinicLanguage,
        [ClinicLanguage(clinic=clinic, language=language, role=role) for language, role in row["languages"]],
    )
    clinic.services.all().delete()
    create_with_history(
        ClinicService, [ClinicService(clinic=clinic, service=service) for service in row["services"]]
    )
    clinic.accreditations.all().delete()
    create_with_history(
        Accreditation,
        [
            Accreditation(
                clinic=clinic,
                kind=accreditation["kind"],
                valid_from=_date(accreditation["valid_from"]),
                valid_until=_date(accreditation["valid_until"]),
                certificate_number=accreditation["certificate_number"],
            )
            for accreditation in row["accreditations"]
        ],
    )
    _load_doctors(clinic, row["doctors"], specialties, treatments, translated)
    return clinic


def _load_doctors(clinic, rows, specialties, treatments, translated):
    """The clinic's doctors, found by slug and updated (answers naming a doctor keep pointing at them);
    doctors no longer in the demo are removed."""
    prefix = f"clinic.{clinic.slug}"
    conditions = {condition.slug: condition for condition in Condition.objects.all()}
    clinic.doctors.exclude(slug__in=[doctor["slug"] for doctor in rows]).delete()
    for number, row in enumerate(rows, start=1):
        defaults = {
            "languages": row["languages"],
            "practising_since": row["practising_since"],
            "is_published": True,
            "position": number,
        }
        for field in DOCTOR_TEXT_FIELDS:
            defaults.update(
                localized_values(f"{prefix}.doctor.{number}.{field}", row[field], field, translated)
            )
        doctor, _created = Doctor.objects.update_or_create(clinic=clinic, slug=row["slug"], defaults=defaults)
        doctor.full_clean()  # a demo doctor breaking a rule stops the load: the transaction is undone
        doctor.specialties.set([specialties[slug] for slug in row["specialties"]])
        doctor.focus_conditions.set([conditions[slug] for slug in row["focus_conditions"]])
        doctor.focus_treatments.set([treatments[slug] for slug in row["focus_treatments"]])
