"""schema.org JSON-LD for condition pages."""

from conditions.models import ConditionSection


def condition_page_jsonld(condition, *, page_url, language):
    about = {
        "@type": condition.schema_type,
        "name": condition.name,
        "description": condition.summary,
        "url": page_url,
        "signOrSymptom": [
            {"@type": "MedicalSymptom", "name": item.text}
            for item in condition.items_in(ConditionSection.SYMPTOM)
        ],
        "cause": [
            {"@type": "MedicalCause", "name": item.title or item.text, "description": item.text}
            for item in condition.items_in(ConditionSection.CAUSE)
        ],
        "possibleTreatment": [
            {"@type": "MedicalTherapy", "name": link.treatment.name}
            for link in condition.condition_treatments.all()
        ],
        "relevantSpecialty": [
            {"@type": "MedicalSpecialty", "name": specialty.name} for specialty in condition.specialties.all()
        ],
    }
    if condition.synonyms:
        about["alternateName"] = condition.synonyms
    page = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "name": condition.name,
        "url": page_url,
        "inLanguage": language,
        "description": condition.summary,
        "about": about,
        "audience": {"@type": "Patient"},
        "dateModified": condition.updated_at.date().isoformat(),
    }
    if condition.last_reviewed:
        page["lastReviewed"] = condition.last_reviewed.isoformat()
    if condition.reviewer_name:
        page["reviewedBy"] = {"@type": "Person", "name": condition.reviewer_name}
        if condition.reviewer_credentials:
            page["reviewedBy"]["description"] = condition.reviewer_credentials
    return page
