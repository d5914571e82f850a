"""schema.org JSON-LD for clinic and doctor pages."""

from django.utils.translation import get_language_info

from clinics.models import ClinicKind

HOSPITAL_KINDS = {
    ClinicKind.TERTIARY_HOSPITAL,
    ClinicKind.GENERAL_HOSPITAL,
    ClinicKind.HOSPITAL,
    ClinicKind.REHABILITATION_HOSPITAL,
}


def clinic_jsonld(clinic, *, page_url, language):
    data = {
        "@context": "https://schema.org",
        "@type": "Hospital" if clinic.kind in HOSPITAL_KINDS else "MedicalClinic",
        "name": clinic.name,
        "alternateName": clinic.legal_name_ko,
        "url": page_url,
        "inLanguage": language,
        "description": clinic.description,
        "medicalSpecialty": sorted(
            {
                specialty.schema_org_specialty
                for specialty in clinic.specialties.all()
                if specialty.schema_org_specialty
            }
        ),
        "availableService": [
            {"@type": "MedicalTherapy", "name": link.treatment.name}
            for link in clinic.clinic_treatments.all()
        ],
        "address": {
            "@type": "PostalAddress",
            "streetAddress": clinic.address_en,
            "addressLocality": clinic.get_city_display(),
            "addressCountry": "KR",
        },
    }
    if clinic.latitude is not None and clinic.longitude is not None:
        data["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": float(clinic.latitude),
            "longitude": float(clinic.longitude),
        }
    if clinic.website:
        data["sameAs"] = [clinic.website]
    languages = clinic.language_codes()
    if languages or clinic.phone:
        contact = {
            "@type": "ContactPoint",
            "contactType": "international patient centre"
            if clinic.has_international_centre
            else "customer service",
            "availableLanguage": [
                {"@type": "Language", "name": get_language_info(code)["name"], "alternateName": code}
                for code in languages
            ],
        }
        if clinic.phone:
            contact["telephone"] = clinic.phone.as_e164
        data["contactPoint"] = contact
    if clinic.year_founded:
        data["foundingDate"] = str(clinic.year_founded)
    if clinic.is_sample:
        data["disambiguatingDescription"] = "Sample data: a fictional clinic used to demonstrate the site."
    return data


def doctor_jsonld(doctor, *, page_url, clinic_url, photo_url=""):
    """schema.org ``Physician`` for a doctor's page, a member of the clinic (``Hospital`` or
    ``MedicalClinic``, as on the clinic's page). Expects ``DoctorQuerySet.for_profile``'s prefetches."""
    clinic = doctor.clinic
    data = {
        "@context": "https://schema.org",
        "@type": "Physician",
        "name": doctor.name,
        "url": page_url,
        "medicalSpecialty": sorted(
            {
                specialty.schema_org_specialty
                for specialty in doctor.specialties.all()
                if specialty.schema_org_specialty
            }
        ),
        "knowsLanguage": [
            {"@type": "Language", "name": get_language_info(code)["name"], "alternateName": code}
            for code in doctor.languages
        ],
        "memberOf": {
            "@type": "Hospital" if clinic.kind in HOSPITAL_KINDS else "MedicalClinic",
            "name": clinic.name,
            "url": clinic_url,
        },
    }
    if clinic.kind in HOSPITAL_KINDS:
        data["hospitalAffiliation"] = {"@type": "Hospital", "name": clinic.name, "url": clinic_url}
    # schema.org's Physician is an organization's type: no jobTitle (a Person's); the title describes.
    if doctor.title:
        data["description"] = doctor.title
    if photo_url:
        data["image"] = photo_url
    if doctor.is_sample:
        data["disambiguatingDescription"] = "Sample data: a fictional doctor used to demonstrate the site."
    return data
