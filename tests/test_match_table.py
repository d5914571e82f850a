"""The match table behind condition pages: it follows every change a ranking depends on, and the
page reads it in a constant number of queries."""

import datetime
import random
import re
from html import unescape

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from modeltranslation.utils import build_localized_fieldname

from clinics import deferred, match_table
from clinics.models import Accreditation, Clinic, ClinicConditionMatch, ClinicLanguage, ClinicTreatment
from conditions.models import ConditionTreatment, TreatmentCategory
from tests.factories import make_clinic, make_condition, make_specialty, make_treatment

pytestmark = pytest.mark.django_db

LANGUAGES = [code for code, _name in settings.LANGUAGES]
FAR_FUTURE = datetime.date(2099, 1, 1)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """A block whose on-commit work runs at its end, as a real commit would run it."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def knowledge(committed):
    """A condition with two clinical treatments, self-care advice and two specialties."""
    with committed():
        procedure = make_treatment(category=TreatmentCategory.PROCEDURE, name_en="Nerve block")
        medicine = make_treatment(category=TreatmentCategory.MEDICATION, name_en="Baclofen")
        advice = make_treatment(category=TreatmentCategory.LIFESTYLE, is_clinical_service=False)
        neurology, rehabilitation = make_specialty(name_en="Neurology"), make_specialty(name_en="Rehab")
        condition = make_condition(name_en="Spasm")
        for position, treatment in enumerate([procedure, medicine, advice]):
            condition.condition_treatments.create(treatment=treatment, position=position)
        condition.specialties.add(neurology, rehabilitation)
    return {
        "condition": condition,
        "procedure": procedure,
        "medicine": medicine,
        "advice": advice,
        "neurology": neurology,
        "rehabilitation": rehabilitation,
    }


def ranked(condition, language="en"):
    with translation.override(language):
        return [clinic.slug for clinic in Clinic.objects.published().for_condition(condition, language)]


def facts(clinic, condition, language="en"):
    with translation.override(language):
        found = Clinic.objects.for_condition(condition, language).get(pk=clinic.pk)
    return (
        found.speaks_reader_language,
        found.matched_treatment_count,
        found.matched_specialty_count,
        found.current_accreditation_count,
    )


def expected_ranking(condition, language):
    """The published rules computed from the data, as the ranking page states them."""
    treatment_ids = set(
        ConditionTreatment.objects.filter(
            condition=condition, treatment__is_clinical_service=True
        ).values_list("treatment_id", flat=True)
    )
    specialty_ids = set(condition.specialties.values_list("pk", flat=True))
    rows = []
    for clinic in Clinic.objects.published().prefetch_related(
        "languages", "specialties", "clinic_treatments"
    ):
        treatments = {link.treatment_id for link in clinic.clinic_treatments.all()} & treatment_ids
        specialties = {specialty.pk for specialty in clinic.specialties.all()} & specialty_ids
        if not treatments and not specialties:
            continue
        key = (
            -int(clinic.speaks(language)),
            -len(treatments),
            -len(specialties),
            -Accreditation.objects.current().filter(clinic=clinic).count(),
            getattr(clinic, build_localized_fieldname("name", language)) or clinic.name_en,
            clinic.pk,
        )
        rows.append((key, clinic.slug))
    return [slug for _key, slug in sorted(rows)]


# --- the ranking read from the table is the published ranking -----------------------------------------


def test_the_table_ranks_as_the_published_rules_in_every_language(knowledge, committed):
    """Many clinics with every kind of tie: same counts, the same name in one language, no name in
    another, so that the order falls to the next rule each time."""
    rng = random.Random(7)
    treatments = [knowledge["procedure"], knowledge["medicine"], knowledge["advice"], make_treatment()]
    specialties = [knowledge["neurology"], knowledge["rehabilitation"], make_specialty()]
    with committed():
        for number in range(40):
            clinic = make_clinic(
                name_en=f"Clinic {rng.choice('ABC')}",
                name_ko=rng.choice(["", "가 병원", "나 병원"]),
                name_ru=rng.choice(["", "Клиника"]),
                treatments=rng.sample(treatments, rng.randint(0, 3)),
                specialties=rng.sample(specialties, rng.randint(0, 2)),
                is_published=number % 9 != 0,
            )
            for language in rng.sample(LANGUAGES, rng.randint(0, 3)):
                ClinicLanguage.objects.create(clinic=clinic, language=language, role="coordinator")
            for _number in range(rng.randint(0, 2)):
                Accreditation.objects.create(
                    clinic=clinic, kind="jci", valid_until=rng.choice([FAR_FUTURE, datetime.date(2020, 1, 1)])
                )
    condition = knowledge["condition"]
    for language in LANGUAGES:
        assert ranked(condition, language) == expected_ranking(condition, language), language
    assert len(ranked(condition)) > 20


def table_rows():
    return set(
        ClinicConditionMatch.objects.values_list(
            "condition",
            "clinic",
            "language",
            "speaks_language",
            "matched_treatment_count",
            "matched_specialty_count",
            "current_accreditation_count",
            "sort_name",
        )
    )


def test_the_demo_load_leaves_the_table_as_a_full_rebuild_does(demo):
    loaded = table_rows()
    assert loaded
    call_command("rebuild_clinic_matches", stdout=None)
    assert table_rows() == loaded


def test_a_clinic_import_leaves_the_table_as_a_full_rebuild_does(demo, committed):
    from clinics.imports import ClinicResource
    from tests.test_clinic_import import SAMPLE_SLUGS, dataset, sample_rows

    before = table_rows()
    with committed():
        result = ClinicResource().import_data(dataset(sample_rows()), dry_run=False)
    assert not result.has_errors()
    imported = table_rows()
    assert {row[1] for row in imported - before} == set(
        Clinic.objects.filter(slug__in=SAMPLE_SLUGS).values_list("pk", flat=True)
    )
    call_command("rebuild_clinic_matches", stdout=None)
    assert table_rows() == imported


# --- the table follows every change --------------------------------------------------------------------


def test_a_clinic_offering_a_treatment_is_listed_and_unlisted_when_it_stops(knowledge, committed):
    condition = knowledge["condition"]
    clinic = make_clinic(slug="newcomer")
    assert ranked(condition) == []
    with committed():
        link = ClinicTreatment.objects.create(clinic=clinic, treatment=knowledge["procedure"])
    assert ranked(condition) == ["newcomer"]
    with committed():
        link.delete()
    assert ranked(condition) == []


def test_self_care_advice_alone_lists_no_clinic(knowledge, committed):
    make_clinic(slug="advice-only", treatments=[knowledge["advice"]])
    assert ranked(knowledge["condition"]) == []


def test_a_clinics_specialties_count(knowledge, committed):
    condition = knowledge["condition"]
    clinic = make_clinic(slug="specialist")
    with committed():
        clinic.specialties.add(knowledge["neurology"], knowledge["rehabilitation"])
    assert facts(clinic, condition)[2] == 2
    with committed():
        clinic.specialties.remove(knowledge["neurology"])
    assert facts(clinic, condition)[2] == 1
    with committed():
        knowledge["rehabilitation"].clinics.clear()  # from the specialty's side
    assert ranked(condition) == []


def test_a_language_added_moves_the_clinic_up_for_its_readers(knowledge, committed):
    condition = knowledge["condition"]
    make_clinic(slug="many-treatments", treatments=[knowledge["procedure"], knowledge["medicine"]])
    mongolian = make_clinic(slug="speaks-mongolian", treatments=[knowledge["procedure"]])
    assert ranked(condition, "mn") == ["many-treatments", "speaks-mongolian"]
    with committed():
        row = ClinicLanguage.objects.create(clinic=mongolian, language="mn", role="interpreter")
    assert ranked(condition, "mn") == ["speaks-mongolian", "many-treatments"]
    assert ranked(condition, "en") == ["many-treatments", "speaks-mongolian"]
    with committed():
        row.delete()
    assert ranked(condition, "mn") == ["many-treatments", "speaks-mongolian"]


def test_accreditations_count_when_added_and_stop_when_removed(knowledge, committed):
    condition = knowledge["condition"]
    make_clinic(slug="first-by-name", name_en="Alpha", treatments=[knowledge["procedure"]])
    accredited = make_clinic(slug="accredited", name_en="Zulu", treatments=[knowledge["procedure"]])
    assert ranked(condition) == ["first-by-name", "accredited"]
    with committed():
        accreditation = Accreditation.objects.create(clinic=accredited, kind="jci", valid_until=FAR_FUTURE)
    assert ranked(condition) == ["accredited", "first-by-name"]
    with committed():
        accreditation.delete()
    assert ranked(condition) == ["first-by-name", "accredited"]


def test_an_accreditation_lapsing_by_date_stops_counting_at_the_nightly_rebuild(knowledge, committed):
    condition = knowledge["condition"]
    clinic = make_clinic(slug="lapsing", treatments=[knowledge["procedure"]])
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    with committed():
        Accreditation.objects.create(clinic=clinic, kind="koiha", valid_until=tomorrow)
    assert facts(clinic, condition)[3] == 1
    match_table.clinic_matches_rebuild(today=tomorrow + datetime.timedelta(days=1))
    assert facts(clinic, condition)[3] == 0


def test_renaming_a_clinic_reorders_ties_in_that_language_only(knowledge, committed):
    condition = knowledge["condition"]
    make_clinic(slug="b", name_en="Bravo", treatments=[knowledge["procedure"]])
    renamed = make_clinic(slug="c", name_en="Charlie", treatments=[knowledge["procedure"]])
    assert ranked(condition, "ko") == ["b", "c"]
    renamed.name_ko = "Alpha"
    with committed():
        renamed.save()
    assert ranked(condition, "ko") == ["c", "b"]
    assert ranked(condition, "en") == ["b", "c"]


def test_an_unpublished_clinic_is_not_listed(knowledge, committed):
    condition = knowledge["condition"]
    clinic = make_clinic(slug="on-and-off", treatments=[knowledge["procedure"]])
    clinic.is_published = False
    with committed():
        clinic.save()
    assert ranked(condition) == []
    clinic.is_published = True
    with committed():
        clinic.save()
    assert ranked(condition) == ["on-and-off"]


def test_a_treatment_linked_to_the_condition_lists_the_clinics_offering_it(knowledge, committed):
    condition = knowledge["condition"]
    other = make_treatment(category=TreatmentCategory.PROCEDURE)
    make_clinic(slug="offers-other", treatments=[other])
    assert ranked(condition) == []
    with committed():
        link = ConditionTreatment.objects.create(condition=condition, treatment=other, position=9)
    assert ranked(condition) == ["offers-other"]
    with committed():
        link.delete()
    assert ranked(condition) == []


def test_a_specialty_linked_to_the_condition_lists_its_practitioners(knowledge, committed):
    condition = knowledge["condition"]
    surgery = make_specialty()
    make_clinic(slug="surgeons", specialties=[surgery])
    with committed():
        condition.specialties.add(surgery)
    assert ranked(condition) == ["surgeons"]
    with committed():
        condition.specialties.remove(surgery)
    assert ranked(condition) == []
    with committed():
        surgery.conditions.add(condition)  # from the specialty's side
    assert ranked(condition) == ["surgeons"]
    with committed():
        condition.specialties.clear()
    assert ranked(condition) == []


def test_a_treatment_marked_as_self_care_stops_being_a_ground(knowledge, committed):
    condition = knowledge["condition"]
    make_clinic(slug="procedures", treatments=[knowledge["procedure"]])
    procedure = knowledge["procedure"]
    procedure.is_clinical_service = False
    with committed():
        procedure.save()
    assert ranked(condition) == []
    procedure.is_clinical_service = True
    with committed():
        procedure.save(update_fields=["is_clinical_service"])
    assert ranked(condition) == ["procedures"]


def test_a_deleted_specialty_no_longer_counts(knowledge, committed):
    condition = knowledge["condition"]
    clinic = make_clinic(
        slug="practitioner", specialties=[knowledge["neurology"], knowledge["rehabilitation"]]
    )
    with committed():
        knowledge["neurology"].delete()
    assert facts(clinic, condition)[2] == 1


def test_deleting_a_clinic_or_a_condition_removes_their_rows(knowledge, committed):
    condition = knowledge["condition"]
    clinic = make_clinic(treatments=[knowledge["procedure"]])
    kept = make_clinic(treatments=[knowledge["procedure"]])
    assert ClinicConditionMatch.objects.filter(clinic=clinic).count() == len(LANGUAGES)
    with committed():
        clinic.delete()
    assert not ClinicConditionMatch.objects.filter(clinic_id=clinic.pk).exists()
    with committed():
        condition.delete()
    assert not ClinicConditionMatch.objects.filter(clinic=kept).exists()


def test_a_change_touching_many_clinics_is_rebuilt_by_the_task_worker(knowledge, committed, settings):
    from django_tasks_db.models import DBTaskResult

    from clinics.tasks import refresh_clinic_matches

    condition = knowledge["condition"]
    other = make_treatment(category=TreatmentCategory.PROCEDURE)
    for _number in range(deferred.BACKGROUND_REFRESH_THRESHOLD + 1):
        make_clinic(treatments=[other])
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    with committed():
        ConditionTreatment.objects.create(condition=condition, treatment=other, position=9)

    # Queued, not done within the request: the clinics are not listed yet.
    queued = DBTaskResult.objects.get(task_path="clinics.tasks.refresh_clinic_matches")
    assert ranked(condition) == []
    refresh_clinic_matches.call(**queued.args_kwargs["kwargs"])
    assert len(ranked(condition)) == deferred.BACKGROUND_REFRESH_THRESHOLD + 1


def test_bulk_loads_are_brought_up_to_date_by_the_rebuild_command(knowledge):
    condition = knowledge["condition"]
    clinics = Clinic.objects.bulk_create(
        Clinic(slug=f"bulk-{number}", name_en=f"Bulk {number}", is_published=True) for number in range(3)
    )
    ClinicTreatment.objects.bulk_create(
        ClinicTreatment(clinic=clinic, treatment=knowledge["procedure"]) for clinic in clinics
    )
    assert ranked(condition) == []  # bulk_create sends no signals
    call_command("rebuild_clinic_matches", stdout=None)
    assert ranked(condition) == ["bulk-0", "bulk-1", "bulk-2"]


# --- a constant number of queries ----------------------------------------------------------------------


def matching_list_queries(client, condition):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(condition.get_absolute_url())
    html = unescape(response.content.decode())
    return len(captured), re.findall(r'data-clinic="([^"]+)"', html)


def test_the_condition_pages_matching_list_costs_the_same_at_3_and_30_clinics(client, knowledge, committed):
    condition = knowledge["condition"]

    def add_clinics(count):
        with committed():
            for _number in range(count):
                clinic = make_clinic(
                    treatments=[knowledge["procedure"], knowledge["medicine"]],
                    specialties=[knowledge["neurology"]],
                )
                ClinicLanguage.objects.create(clinic=clinic, language="en", role="coordinator")
                Accreditation.objects.create(clinic=clinic, kind="jci", valid_until=FAR_FUTURE)

    add_clinics(3)
    client.get(condition.get_absolute_url())  # warm caches of content types, sessions and the like
    few, cards = matching_list_queries(client, condition)
    assert len(cards) == 3
    add_clinics(27)
    many, cards = matching_list_queries(client, condition)
    assert len(cards) == 10
    assert many == few
