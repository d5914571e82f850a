"""Matching a patient can believe: clinical grounds only, the published ranking rules, reasons in plain words."""

import re
from html import unescape

import pytest
from django.conf import settings
from django.utils import translation
from modeltranslation.utils import build_localized_fieldname

from clinics.models import Accreditation, Clinic, ClinicTreatment
from conditions.models import Condition, Treatment, TreatmentCategory
from tests.factories import make_clinic, make_condition, make_specialty, make_treatment

pytestmark = pytest.mark.django_db

LANGUAGES = [code for code, _name in settings.LANGUAGES]


def page(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return unescape(response.content.decode())


def card_slugs(html):
    return re.findall(r'data-clinic="([^"]+)"', html)


def cards(html):
    """{clinic slug: {reason kind: (label, text)}} from the clinic cards of a condition page."""

    def plain(fragment):
        return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())

    reason = re.compile(r'data-reason="([a-z]+)"><dt>(.*?)</dt><dd>(.*?)</dd>', re.S)
    return {
        slug: {kind: (plain(label), plain(text)) for kind, label, text in reason.findall(body)}
        for slug, body in re.findall(r'data-clinic="([^"]+)"(.*?)</li>', html, re.S)
    }


# --- clinical grounds only ---------------------------------------------------------------------------


def test_self_care_advice_is_never_a_ground_for_listing_a_clinic(client, demo):
    """A clinic offering only home exercises and lifestyle advice is not listed as treating anything."""
    self_care = list(Treatment.objects.filter(slug__in=["stretching-exercises", "avoid-immobilization"]))
    assert [treatment.is_clinical_service for treatment in self_care] == [False, False]
    stretching_only = make_clinic(
        slug="stretching-only", name_en="Stretching Only Studio", treatments=self_care
    )

    for condition in Condition.objects.published():
        html = page(client, condition.get_absolute_url())
        assert "stretching-only" not in card_slugs(html), condition.slug
        assert 'value="stretching-only"' not in html  # nor offered in the page's request form
        assert not Clinic.objects.treating(condition).filter(pk=stretching_only.pk).exists()
    clinic_page = page(client, stretching_only.get_absolute_url())
    assert 'href="/en/conditions/clonus/"' not in clinic_page


def test_self_care_is_not_named_among_what_a_clinic_offers(client, demo):
    """Gwangju offers stretching and avoiding immobilization too: its card names only its clinical care."""
    html = page(client, "/en/conditions/clonus/")
    gwangju = cards(html)["gwangju-mudeung-rehabilitation-hospital"]
    offers = gwangju["treatments"][1]
    assert "Gait training and balance exercises" in offers
    assert "Help with daily activities" in offers
    for advice in ("Stretching", "Strengthening", "immobilization", "monitoring"):
        assert advice not in offers


def test_a_clinical_treatment_alone_is_enough(client, db):
    """No matching specialty, one clinical procedure for the condition: the clinic is listed for it."""
    procedure = make_treatment(category=TreatmentCategory.PROCEDURE, name_en="Tendon lengthening")
    advice = make_treatment(category=TreatmentCategory.LIFESTYLE, is_clinical_service=False)
    condition = make_condition(name_en="Equinus")
    condition.condition_treatments.create(treatment=procedure, position=1)
    condition.condition_treatments.create(treatment=advice, position=2)
    condition.specialties.add(make_specialty())
    surgery = make_clinic(name_en="Surgical Centre", treatments=[procedure])
    make_clinic(name_en="Advice Centre", treatments=[advice])

    html = page(client, condition.get_absolute_url())
    assert card_slugs(html) == [surgery.slug]
    assert cards(html)[surgery.slug]["treatments"] == ("Offers for this condition", "Tendon lengthening")


def test_clearing_clinical_service_in_the_admin_sense_removes_the_ground(client, demo):
    """The flag decides: mark gait training as self-care and Jeju (gait training + rehabilitation) keeps
    only its specialty as a reason."""
    Treatment.objects.filter(slug="gait-balance-training").update(is_clinical_service=False)
    jeju = cards(page(client, "/en/conditions/clonus/"))["jeju-seaside-recovery-hospital"]
    assert "treatments" not in jeju
    assert jeju["specialties"] == ("Specialists", "Rehabilitation medicine")


# --- the published rules and the order agree, in every language ---------------------------------------


def rules_in_order(client, language):
    html = page(client, f"/{language}/about/ranking/")
    return re.findall(r'<li data-rule="([a-z]+)"', html)


def expected_order(condition, language, rules):
    """The clinics and their order computed from the data by the rules as the ranking page states them."""
    treatment_ids = {
        link.treatment_id
        for link in condition.condition_treatments.all()
        if link.treatment.is_clinical_service
    }
    specialty_ids = {specialty.pk for specialty in condition.specialties.all()}
    rows = []
    with translation.override(language):
        for clinic in Clinic.objects.published().prefetch_related(
            "languages", "specialties", "clinic_treatments"
        ):
            treatments = {link.treatment_id for link in clinic.clinic_treatments.all()} & treatment_ids
            specialties = {specialty.pk for specialty in clinic.specialties.all()} & specialty_ids
            if not treatments and not specialties:
                continue
            name = getattr(clinic, build_localized_fieldname("name", language)) or clinic.name_en
            facts = {
                "language": -int(any(row.language == language for row in clinic.languages.all())),
                "treatments": -len(treatments),
                "specialties": -len(specialties),
                "accreditations": -Accreditation.objects.current().filter(clinic=clinic).count(),
                "name": name,
            }
            rows.append((tuple(facts[rule] for rule in rules), clinic.pk, clinic.slug))
    return [slug for _key, _pk, slug in sorted(rows)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_published_rules_and_the_order_agree(client, demo, language):
    rules = rules_in_order(client, language)
    assert rules == ["language", "treatments", "specialties", "accreditations", "name"]
    clonus = Condition.objects.with_page_content().get(slug="clonus")
    shown = card_slugs(page(client, f"/{language}/conditions/clonus/"))
    assert shown == expected_order(clonus, language, rules)
    assert len(shown) == 10
    # Every clinic that supports the reader's language comes before every clinic that does not.
    speaking = set(Clinic.objects.speaking(language).values_list("slug", flat=True))
    flags = [slug in speaking for slug in shown]
    assert flags == sorted(flags, reverse=True)


def test_a_mongolian_reader_sees_the_mongolian_speaking_clinics_first(client, demo):
    shown = card_slugs(page(client, "/mn/conditions/clonus/"))
    assert set(shown[:2]) == {"seoul-riverside-rehabilitation-hospital", "incheon-gateway-medical-center"}
    english = card_slugs(page(client, "/en/conditions/clonus/"))
    assert english[0] == "hanbit-neuroscience-hospital"


# --- reasons as short labelled lines -------------------------------------------------------------------


def test_reasons_are_labelled_lines_in_plain_words(client, demo):
    hanbit = cards(page(client, "/en/conditions/clonus/"))["hanbit-neuroscience-hospital"]
    assert hanbit["treatments"] == (
        "Offers for this condition",
        "Intrathecal baclofen pump, Nerve blocks, Botulinum toxin injection and 2 more",
    )
    assert hanbit["specialties"] == ("Specialists", "Neurology, Neurosurgery, Rehabilitation medicine")
    assert hanbit["language"] == ("Speaks English", "International coordinator")
    assert hanbit["accreditations"][0] == "Accreditations"
    assert "JCI accreditation" in hanbit["accreditations"][1]
    assert hanbit["price"] == ("Indicative price", "₩90,000 – ₩40,000,000")
    assert hanbit["stay"] == ("Typical stay", "1–7 days")


def test_reasons_read_in_the_readers_language(client, demo):
    busan = cards(page(client, "/ru/conditions/clonus/"))["busan-haeundae-neuro-centre"]
    label, roles = busan["language"]
    assert "русск" in label.lower()
    assert "врач" in roles.lower()  # a Russian-speaking doctor, and in what role
    for _kind, (label, _text) in busan.items():
        assert not re.search(r"[A-Za-z]{4,}", label), label
    arabic = cards(page(client, "/ar/conditions/clonus/"))["bundang-neurology-clinic"]
    assert "language" in arabic
    assert not re.search(r"[A-Za-z]{4,}", arabic["language"][0] + arabic["language"][1])


def test_price_and_stay_cover_only_this_conditions_treatments(client, demo):
    """Songdo's joint replacement is not a clonus treatment; Incheon offers it too, and it is left out."""
    ClinicTreatment.objects.filter(
        clinic__slug="incheon-gateway-medical-center", treatment__slug="joint-replacement"
    ).update(price_min_krw=15_000_000, price_max_krw=25_000_000, typical_stay_days=14)
    incheon = cards(page(client, "/en/conditions/clonus/"))["incheon-gateway-medical-center"]
    assert "25,000,000" not in incheon.get("price", ("", ""))[1]
    assert "14" not in incheon.get("stay", ("", ""))[1]


def test_a_clinic_without_prices_says_nothing_rather_than_zero(client, demo):
    ClinicTreatment.objects.filter(clinic__slug="gangnam-movement-clinic").update(
        price_min_krw=None, price_max_krw=None, typical_stay_days=None
    )
    gangnam = cards(page(client, "/en/conditions/clonus/"))["gangnam-movement-clinic"]
    assert "price" not in gangnam and "stay" not in gangnam
    assert "₩0" not in page(client, "/en/conditions/clonus/")


def test_the_matching_list_is_fetched_in_a_constant_number_of_queries(
    client, demo, django_assert_max_num_queries
):
    client.get("/en/conditions/clonus/")  # warm caches of content types, sessions and the like
    with django_assert_max_num_queries(40) as captured:
        client.get("/en/conditions/clonus/")
    before = len(captured)
    for number in range(5):
        make_clinic(
            name_en=f"Extra {number}",
            treatments=list(Treatment.objects.filter(slug="botulinum-toxin-injection")),
            specialties=[],
        )
    with django_assert_max_num_queries(before):
        client.get("/en/conditions/clonus/")
