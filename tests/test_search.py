"""Search in the patient's words: near misses ("Did you mean …?"), the no-results pages, and clinic
search texts that follow the medical knowledge they are built from."""

import re
from html import unescape

import pytest
from django.db import connection
from django.utils import translation

from clinics.models import Clinic, clinic_search_texts
from clinics.services import _conditions_treated, clinics_rebuild_search_text
from conditions.models import Condition, ConditionStatus, ConditionTreatment, Treatment
from conditions.search import close_words, corrected_query, normalize
from tests.factories import make_clinic, make_condition, make_specialty, make_treatment

pytestmark = pytest.mark.django_db


def page_text(response):
    assert response.status_code == 200
    return unescape(response.content.decode())


def condition_cards(html):
    return re.findall(r'data-condition="([^"]+)"', html)


def clinic_cards(html):
    return re.findall(r'data-clinic="([^"]+)"', html)


def found_clinics(query):
    return set(Clinic.objects.search(query).values_list("slug", flat=True))


# Did you mean …?


def test_normalize_drops_the_stroke_of_vietnamese_d():
    assert normalize("Đột quỵ") == "dot quy"


def test_corrected_query_replaces_a_misspelt_word_with_the_closest_word_of_the_text():
    text = normalize("Clonus\nAnkle clonus\nRhythmic muscle jerks")
    assert corrected_query("ankle clonis", text) == "ankle clonus"
    assert corrected_query("ankle clonus", text) == ""  # nothing to correct
    assert corrected_query("clonis zzzz", text) == ""  # a term with nothing close: no suggestion


def test_corrected_query_shows_words_as_they_are_written():
    text = normalize("Đột quỵ\nTai biến")
    assert corrected_query("dot quyy", text, {"dot": "đột", "quy": "quỵ"}) == "đột quỵ"


def test_corrected_query_splits_words_run_together_in_chinese_and_korean():
    assert corrected_query("中风康复", normalize("脑卒中（中风）恢复与康复")) == "中风 康复"
    assert corrected_query("발목떨림", normalize("발목 떨림\n다리 떨림")) == "발목 떨림"


def test_close_words_compare_hangul_letter_by_letter():
    # One vowel apart: four syllables differ in one, but their letters in only one of ten.
    assert set(close_words("클로너스", {"클로누스", "경직", "클리닉"})) == {"클로누스"}
    assert close_words("at", {"ate", "cat"}) == {}  # two Latin letters are close to too much


# The conditions list


def test_condition_search_with_a_typo_offers_the_correction_and_the_closest_condition(client, demo):
    html = page_text(client.get("/en/conditions/", {"q": "clonis"}))
    assert "No condition matches “<bdi>clonis</bdi>”." in html
    assert 'Did you mean <a href="?q=clonus"><bdi>clonus</bdi></a>?' in html
    assert "1 condition with a similar name" in html
    assert condition_cards(html) == ["clonus"]
    assert " 0 conditions" not in html


def test_condition_suggestion_leads_to_the_condition(client, demo):
    html = page_text(client.get("/ko/conditions/", {"q": "클로너스"}))
    [link] = re.findall(r'class="did-you-mean">.*?<a href="([^"]+)">', html)
    followed = page_text(client.get("/ko/conditions/" + link))
    assert condition_cards(followed) == ["clonus"]
    assert "did-you-mean" not in followed


def test_condition_no_results_page_is_translated(client, demo):
    html = page_text(client.get("/ru/conditions/", {"q": "клонс"}))
    with translation.override("ru"):
        no_match = translation.gettext("No condition matches “%(query)s”.") % {"query": "<bdi>клонс</bdi>"}
        similar = translation.ngettext(
            "%(number)s condition with a similar name", "%(number)s conditions with a similar name", 1
        ) % {"number": "1"}
    assert no_match != "No condition matches “<bdi>клонс</bdi>”."
    assert no_match in html
    assert similar in html
    assert 'href="?q=%D0%BA%D0%BB%D0%BE%D0%BD%D1%83%D1%81"><bdi>клонус</bdi></a>' in html


def test_condition_search_with_nothing_close_says_so(client, demo):
    html = page_text(client.get("/en/conditions/", {"q": "qqqqq"}))
    assert "No condition matches “<bdi>qqqqq</bdi>”." in html
    assert "No condition matches your search. Try another word, or a name in another language." in html
    assert "did-you-mean" not in html
    assert condition_cards(html) == []


@pytest.mark.parametrize("size", [1, 30])
def test_condition_near_misses_have_constant_queries(client, django_assert_num_queries, size):
    for number in range(size):
        make_condition(name_en=f"Clonus variant {number}")
    # the search; the vocabulary, the corrected search and the similar rows (the candidates); the
    # near misses themselves
    with django_assert_num_queries(5):
        html = page_text(client.get("/en/conditions/", {"q": "clonis variant"}))
    assert len(condition_cards(html)) == min(size, 5)
    assert "Did you mean" in html


# The clinic directory


def test_clinic_directory_finds_clinics_by_condition_and_brand_names(client, demo):
    clonus = Condition.objects.get(slug="clonus")
    treating = set(Clinic.objects.published().treating(clonus).values_list("slug", flat=True))
    assert set(clinic_cards(page_text(client.get("/en/clinics/", {"q": "clonus"})))) == treating
    botox = set(
        Clinic.objects.published().offering("botulinum-toxin-injection").values_list("slug", flat=True)
    )
    for query in ("botox", "보톡스", "ботокс", "ボトックス", "肉毒素", "بوتوكس"):
        assert set(clinic_cards(page_text(client.get("/en/clinics/", {"q": query})))) == botox, query


def test_clinic_search_with_a_typo_keeps_the_other_filters(client, demo):
    html = page_text(client.get("/en/clinics/", {"q": "botx", "city": "seoul"}))
    assert "No clinic matches “<bdi>botx</bdi>”." in html
    assert 'Did you mean <a href="?q=botox&city=seoul"><bdi>botox</bdi></a>?' in html
    assert "2 clinics matching a similar word" in html
    assert set(clinic_cards(html)) == {"hanbit-neuroscience-hospital", "gangnam-movement-clinic"}
    assert "0 clinics" not in html
    followed = page_text(client.get("/en/clinics/", {"q": "botox", "city": "seoul"}))
    assert set(clinic_cards(followed)) == {"hanbit-neuroscience-hospital", "gangnam-movement-clinic"}


def test_clinic_search_with_nothing_close_says_so(client, demo):
    html = page_text(client.get("/ar/clinics/", {"q": "qqqqq"}))
    with translation.override("ar"):
        message = translation.gettext(
            "No clinic matches your search. Try another word, or the name of a condition or treatment."
        )
    assert (
        message != "No clinic matches your search. Try another word, or the name of a condition or treatment."
    )
    assert message in html
    assert clinic_cards(html) == []


def test_clinic_filters_without_a_search_keep_their_message(client, demo):
    html = page_text(client.get("/en/clinics/", {"city": "jeju", "treatment": "joint-replacement"}))
    assert "No clinic matches all of these filters. Remove a filter to see more." in html
    assert "0 clinics" in html


@pytest.mark.parametrize("count", [1, 30])
def test_clinic_near_misses_have_constant_queries(client, django_assert_num_queries, count):
    treatment = make_treatment(name_en="Botulinum toxin injection", synonyms_en="Botox")
    for number in range(count):
        make_clinic(slug=f"near-{number:03d}", treatments=[treatment])
    # specialty and treatment choices, count; the vocabulary (conditions, treatments, specialties),
    # the corrected search and the similar names (the candidates); the near misses, their languages,
    # photos, accreditations and specialties
    with django_assert_num_queries(13):
        html = page_text(client.get("/en/clinics/", {"q": "botx"}))
    assert len(clinic_cards(html)) == min(count, 5)
    assert 'Did you mean <a href="?q=botox"><bdi>botox</bdi></a>?' in html


# Clinic search texts follow the medical knowledge


@pytest.fixture
def knowledge(db):
    """A clinic offering one clinical treatment of a published condition, and practising a specialty."""
    specialty = make_specialty(name_en="Neurology")
    treatment = make_treatment(name_en="Nerve blocks")
    condition = make_condition(name_en="Dystonia", other_names_en="Twisting muscles")
    ConditionTreatment.objects.create(condition=condition, treatment=treatment)
    clinic = make_clinic(treatments=[treatment], specialties=[specialty])
    return clinic, treatment, specialty, condition


def test_clinic_is_found_by_the_names_of_the_conditions_it_treats(knowledge):
    clinic, _treatment, _specialty, _condition = knowledge
    assert found_clinics("dystonia") == {clinic.slug}
    assert found_clinics("twisting muscles") == {clinic.slug}


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """A block whose on-commit work runs at its end, as a real commit would run it."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_renaming_a_treatment_updates_clinic_search(knowledge, committed):
    clinic, treatment, _specialty, _condition = knowledge
    treatment.name_ko = "신경 차단술"
    treatment.synonyms_ru = "Блокада"
    with committed():
        treatment.save()
    assert found_clinics("신경 차단술") == {clinic.slug}
    assert found_clinics("блокада") == {clinic.slug}
    treatment.name_ko = "신경 블록"
    with committed():
        treatment.save(update_fields=["name_ko"])
    assert found_clinics("차단술") == set()
    assert found_clinics("신경 블록") == {clinic.slug}


def test_clinic_search_is_rebuilt_once_when_the_transaction_commits(knowledge, committed, monkeypatch):
    from clinics import services

    clinic, treatment, specialty, _condition = knowledge
    rebuilt = []
    monkeypatch.setattr(
        services,
        "clinic_search_texts",
        lambda clinic, conditions: rebuilt.append(clinic.slug) or clinic_search_texts(clinic, conditions),
    )
    with committed():
        treatment.name_ja = "神経ブロック"
        treatment.save()
        specialty.name_ja = "脳神経内科"
        specialty.save()
        assert found_clinics("神経ブロック") == set()  # not before the commit
    assert found_clinics("神経ブロック 脳神経内科") == {clinic.slug}
    assert rebuilt == [clinic.slug]


def test_self_care_advice_is_no_ground_for_a_condition_match(knowledge, committed):
    clinic, treatment, _specialty, _condition = knowledge
    treatment.is_clinical_service = False
    with committed():
        treatment.save()
    assert found_clinics("dystonia") == set()
    assert found_clinics("nerve blocks") == {clinic.slug}  # still a treatment it offers


def test_condition_changes_update_clinic_search(knowledge, committed):
    clinic, _treatment, _specialty, condition = knowledge
    condition.other_names_mn = "Булчин мушгирах"
    with committed():
        condition.save()
    assert found_clinics("мушгирах") == {clinic.slug}
    condition.status = ConditionStatus.DRAFT
    with committed():
        condition.save()
    assert found_clinics("dystonia") == set()


def test_condition_links_update_clinic_search(knowledge, committed):
    clinic, treatment, specialty, condition = knowledge
    other = make_condition(name_en="Tremor")
    assert found_clinics("tremor") == set()
    with committed():
        other.specialties.add(specialty)
    assert found_clinics("tremor") == {clinic.slug}
    with committed():
        specialty.conditions.remove(other)
    assert found_clinics("tremor") == set()
    with committed():
        link = ConditionTreatment.objects.create(condition=other, treatment=treatment)
    assert found_clinics("tremor") == {clinic.slug}
    with committed():
        link.delete()
    assert found_clinics("tremor") == set()
    with committed():
        condition.delete()
    assert found_clinics("dystonia") == set()


def test_renaming_a_specialty_updates_clinic_search(knowledge, committed):
    clinic, _treatment, specialty, _condition = knowledge
    specialty.name_vi = "Thần kinh học"
    with committed():
        specialty.save()
    assert found_clinics("than kinh hoc") == {clinic.slug}


def test_saving_an_unrelated_field_refreshes_no_clinic(knowledge, committed):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _clinic, _treatment, _specialty, condition = knowledge
    condition.next_review_due = None
    with CaptureQueriesContext(connection) as queries, committed():
        condition.save(update_fields=["next_review_due"])
    # The condition and its change history are written; no clinic is even looked up.
    assert [query["sql"] for query in queries if "clinics_" in query["sql"]] == []
    assert any("conditions_historicalcondition" in query["sql"] for query in queries)


def test_bulk_rebuild_agrees_with_the_treating_rule(demo):
    clinics = list(Clinic.objects.order_by("pk"))
    treated = _conditions_treated([clinic.pk for clinic in clinics])
    for clinic in clinics:
        expected = {
            condition.slug
            for condition in Condition.objects.published()
            if Clinic.objects.treating(condition).filter(pk=clinic.pk).exists()
        }
        assert {condition.slug for condition in treated[clinic.pk]} == expected, clinic.slug
    Clinic.objects.update(search_text="")
    assert clinics_rebuild_search_text() == len(clinics)
    assert "hanbit-neuroscience-hospital" in found_clinics("ботокс")


def test_bulk_paths_are_covered_by_the_rebuild(knowledge):
    clinic, treatment, _specialty, _condition = knowledge
    Treatment.objects.filter(pk=treatment.pk).update(synonyms_ja="神経ブロック注射")
    assert found_clinics("神経ブロック注射") == set()
    clinics_rebuild_search_text()
    assert found_clinics("神経ブロック注射") == {clinic.slug}


def test_conditions_have_a_trigram_index_on_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'conditions_condition_search_trgm'")
        [indexdef] = cursor.fetchone()
    assert "gin_trgm_ops" in indexdef


def test_treatment_admin_edits_synonyms_per_language(client, db):
    from django.contrib.auth import get_user_model

    from tests.support.staff import signed_in

    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "a-long-admin-password")
    treatment = make_treatment(synonyms_en="Botox", synonyms_ko="보톡스")
    html = (
        signed_in(admin, client=client)
        .get(f"/admin/conditions/treatment/{treatment.pk}/change/")
        .content.decode()
    )
    for column in ("synonyms_en", "synonyms_ko", "synonyms_zh_hans", "synonyms_ar", "synonyms_vi"):
        assert f'name="{column}"' in html
    assert 'name="is_clinical_service"' in html
    assert "보톡스" in html


def test_a_draft_condition_is_no_search_word_for_clinics(knowledge, committed):
    clinic, treatment, _specialty, _condition = knowledge
    with committed():
        draft = make_condition(name_en="Chorea", status=ConditionStatus.DRAFT)
        ConditionTreatment.objects.create(condition=draft, treatment=treatment)
    assert found_clinics("chorea") == set()
    draft.status = ConditionStatus.PUBLISHED
    with committed():
        draft.save()
    assert found_clinics("chorea") == {clinic.slug}


# One owner: whatever changes what a clinic is found by brings its search text up to date


def test_a_clinics_own_rows_keep_its_search_text_fresh(knowledge, committed):
    from clinics.models import ClinicTreatment

    clinic, _treatment, _specialty, _condition = knowledge
    pump = make_treatment(name_en="Baclofen pump", synonyms_ko="바클로펜 펌프")
    with committed():
        link = ClinicTreatment.objects.create(clinic=clinic, treatment=pump)
    assert found_clinics("바클로펜 펌프") == {clinic.slug}
    with committed():
        link.delete()
    assert found_clinics("바클로펜") == set()

    with committed():
        clinic.specialties.add(make_specialty(name_en="Neurosurgery", name_ru="Нейрохирургия"))
    assert found_clinics("нейрохирургия") == {clinic.slug}
    with committed():
        clinic.specialties.clear()
    assert found_clinics("нейрохирургия") == set()

    clinic.name_ja = "ハンビット病院"
    with committed():
        clinic.save()
    assert found_clinics("ハンビット") == {clinic.slug}


def test_a_change_touching_many_clinics_is_rebuilt_by_the_task_worker(knowledge, committed, settings):
    from django_tasks_db.models import DBTaskResult

    from clinics import deferred
    from clinics.tasks import refresh_clinic_search_texts

    _clinic, treatment, _specialty, _condition = knowledge
    for _number in range(deferred.BACKGROUND_REFRESH_THRESHOLD):
        make_clinic(treatments=[treatment])
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    treatment.name_vi = "Phong bế thần kinh"
    with committed():
        treatment.save()

    # Queued, not done within the request: the clinics are not found by the new name yet.
    [queued] = DBTaskResult.objects.all()
    assert queued.task_path == "clinics.tasks.refresh_clinic_search_texts"
    assert found_clinics("phong be than kinh") == set()
    refresh_clinic_search_texts.call(**queued.args_kwargs["kwargs"])
    assert len(found_clinics("phong be than kinh")) == deferred.BACKGROUND_REFRESH_THRESHOLD + 1
