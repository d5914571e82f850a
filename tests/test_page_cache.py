"""Public pages served from the shared cache: each visitor still gets their own form tokens, an edit
shows at once, and nothing personal or one-off is kept."""

import gzip
import re
import time
import uuid

import pytest
from django.core.cache import caches
from django.test import Client

from clinic_portal import page_cache
from clinics.models import ClinicTreatment
from inquiries.models import Inquiry
from tests.factories import make_clinic, make_condition, make_treatment
from tests.support.outages import TcpProxy
from tests.support.patients import valid_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_caching(settings):
    settings.PAGE_CACHE = True
    # Pages held by this process stay current for the whole test, however slow the machine; the
    # tests of the held seconds set their own.
    settings.PAGE_CACHE_LOCAL_SECONDS = 9
    caches["pages"].clear()
    yield
    caches["pages"].clear()


@pytest.fixture
def condition(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        condition = make_condition(treatments=1, summary_en="Rhythmic muscle jerks.")
        make_clinic(slug="seoul-neuro", treatments=[condition.condition_treatments.first().treatment])
    return condition


def csrf_token_in(html):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def submission_key_in(html):
    return re.search(r'name="submission_key" value="([^"]+)"', html).group(1)


def test_a_cached_condition_page_needs_no_query_and_gives_each_visitor_their_own_tokens(
    page_caching, condition, django_assert_num_queries
):
    first, second = Client(), Client()
    first_html = first.get(condition.get_absolute_url()).content.decode()
    with django_assert_num_queries(0):
        second_html = second.get(condition.get_absolute_url()).content.decode()
    assert "seoul-neuro" in second_html and "Rhythmic muscle jerks." in second_html
    assert csrf_token_in(first_html) != csrf_token_in(second_html)
    assert submission_key_in(first_html) != submission_key_in(second_html)
    uuid.UUID(submission_key_in(second_html))
    assert "page-cache:" not in second_html
    # A page with a form is never revalidated by date (an old submission key would come back).
    assert not second.get(condition.get_absolute_url()).has_header("Last-Modified")


def test_the_form_of_a_cached_page_is_accepted_with_the_visitors_token(page_caching, condition):
    Client().get(condition.get_absolute_url())  # cached by someone else first
    visitor = Client(enforce_csrf_checks=True)
    html = visitor.get(condition.get_absolute_url()).content.decode()
    data = {
        **valid_data(condition=condition.slug, preferred_clinics=["seoul-neuro"]),
        "csrfmiddlewaretoken": csrf_token_in(html),
        "submission_key": submission_key_in(html),
    }
    response = visitor.post("/en/inquiries/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Inquiry.objects.get().condition == condition


def without_tokens(html):
    return re.sub(r'(name="(?:csrfmiddlewaretoken|submission_key)" value=")[^"]+', r"\1", html)


def gzipped(client, path, **headers):
    return client.get(path, HTTP_ACCEPT_ENCODING="gzip, deflate, br", **headers)


def test_a_cached_page_goes_out_gzipped_with_each_visitors_tokens_left_uncompressed(page_caching, condition):
    url = condition.get_absolute_url()
    plain = Client().get(url)  # cached by then; a browser without gzip gets it as it is
    responses = [gzipped(Client(), url) for _ in range(8)]

    pages = [gzip.decompress(response.content).decode() for response in responses]
    for response, html in zip(responses, pages, strict=True):
        assert response["Content-Encoding"] == "gzip"
        assert response["Content-Length"] == str(len(response.content))
        assert "Accept-Encoding" in response["Vary"]
        assert without_tokens(html) == without_tokens(plain.content.decode())
        # The tokens travel as they are, never compressed with the page (nothing to guess by length).
        assert csrf_token_in(html).encode() in response.content
        assert submission_key_in(html).encode() in response.content
    assert len({csrf_token_in(html) for html in pages}) == len(pages)
    assert len({submission_key_in(html) for html in pages}) == len(pages)
    assert len({len(response.content) for response in responses}) > 1  # padded as every compressed page


def test_the_form_of_a_gzipped_cached_page_is_accepted(page_caching, condition):
    gzipped(Client(), condition.get_absolute_url())
    visitor = Client(enforce_csrf_checks=True)
    html = gzip.decompress(gzipped(visitor, condition.get_absolute_url()).content).decode()
    data = {
        **valid_data(condition=condition.slug, preferred_clinics=["seoul-neuro"]),
        "csrfmiddlewaretoken": csrf_token_in(html),
        "submission_key": submission_key_in(html),
    }
    assert visitor.post("/en/inquiries/new/", data).status_code == 302
    assert Inquiry.objects.get().condition == condition


def test_a_gzipped_cached_page_without_a_form_answers_304_while_unchanged(
    page_caching, condition, django_assert_num_queries
):
    first = gzipped(Client(), "/en/")
    assert first["ETag"].startswith('W/"') and first.has_header("Last-Modified")
    assert "<h1" in gzip.decompress(first.content).decode()
    with django_assert_num_queries(0):
        again = gzipped(Client(), "/en/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_an_edit_shows_at_once(page_caching, condition, django_capture_on_commit_callbacks):
    assert "Rhythmic muscle jerks." in Client().get(condition.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        condition.summary_en = "Involuntary rhythmic contractions."
        condition.save()
    html = Client().get(condition.get_absolute_url()).content.decode()
    assert "Involuntary rhythmic contractions." in html

    # A new link between a clinic and the condition's treatment shows the clinic at once too.
    with django_capture_on_commit_callbacks(execute=True):
        other = make_clinic(slug="busan-rehab")
    assert "busan-rehab" not in Client().get(condition.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        ClinicTreatment.objects.create(
            clinic=other, treatment=condition.condition_treatments.first().treatment
        )
    assert "busan-rehab" in Client().get(condition.get_absolute_url()).content.decode()


def test_a_page_another_process_cached_is_served_from_redis_and_then_held(
    page_caching, condition, django_assert_num_queries, monkeypatch
):
    url = condition.get_absolute_url()
    first_html = Client().get(url).content.decode()
    page_cache.local_pages.clear()  # as in another worker: the page is in Redis only
    with django_assert_num_queries(0):
        second_html = Client().get(url).content.decode()
    assert without_tokens(second_html) == without_tokens(first_html)
    assert csrf_token_in(first_html) != csrf_token_in(second_html)
    shared_reads = []
    monkeypatch.setattr(caches["pages"], "get_many", lambda keys: shared_reads.append(keys) or {})
    with django_assert_num_queries(0):
        Client().get(url)
    assert shared_reads == []


def test_a_process_serves_the_pages_it_holds_without_asking_redis(page_caching, condition, monkeypatch):
    url = condition.get_absolute_url()
    first_html = Client().get(url).content.decode()
    shared_reads = []
    monkeypatch.setattr(caches["pages"], "get_many", lambda keys: shared_reads.append(keys) or {})
    second_html = Client().get(url).content.decode()
    assert shared_reads == []
    assert without_tokens(second_html) == without_tokens(first_html)
    assert csrf_token_in(first_html) != csrf_token_in(second_html)
    assert submission_key_in(first_html) != submission_key_in(second_html)


def changed_on_another_server(condition, summary):
    """What an edit on another application server leaves: the database and the shared version changed,
    no signal in this process."""
    type(condition).objects.filter(pk=condition.pk).update(summary_en=summary)
    caches["pages"].set(page_cache.VERSION_KEY, page_cache.content_version() + 1, timeout=None)


def test_an_edit_on_another_server_shows_within_the_local_seconds(
    page_caching, settings, condition, monkeypatch
):
    settings.PAGE_CACHE_LOCAL_SECONDS = 1.0
    url = condition.get_absolute_url()
    now = [time.monotonic() + 1000]  # later than what the fixtures stamped
    monkeypatch.setattr(page_cache, "monotonic", lambda: now[0])
    Client().get(url)
    changed_on_another_server(condition, "Involuntary rhythmic contractions.")
    now[0] += 0.9
    assert "Rhythmic muscle jerks." in Client().get(url).content.decode()
    now[0] += 0.2
    html = Client().get(url).content.decode()
    assert "Involuntary rhythmic contractions." in html and "Rhythmic muscle jerks." not in html


def test_with_no_local_seconds_every_request_reads_the_shared_version(page_caching, settings, condition):
    settings.PAGE_CACHE_LOCAL_SECONDS = 0
    url = condition.get_absolute_url()
    Client().get(url)
    changed_on_another_server(condition, "Involuntary rhythmic contractions.")
    assert "Involuntary rhythmic contractions." in Client().get(url).content.decode()


def test_a_process_holds_pages_up_to_its_bound_dropping_the_least_recently_served():
    pages = page_cache.LocalPages(most_bytes=250)

    def stored(size):
        return {"version": 1, "parts": [b"x" * size], "gzip": None}

    pages.keep("a", stored(100))
    pages.keep("b", stored(100))
    pages.keep("b", stored(100))  # kept again: counted once
    assert pages.get("a", 1) is not None  # served: now the most recent
    pages.keep("c", stored(100))  # 300 bytes: the least recently served goes
    assert pages.get("b", 1) is None
    assert pages.get("a", 1) is not None and pages.get("c", 1) is not None
    pages.keep("huge", stored(251))  # larger than the bound: not kept, nothing dropped for it
    assert pages.get("huge", 1) is None and pages.get("a", 1) is not None
    assert pages.get("a", 2) is None  # a page of another version is dropped
    assert pages.get("a", 1) is None
    # What was dropped no longer counts: two pages fit again beside "c".
    pages.keep("d", stored(75))
    pages.keep("e", stored(75))
    assert all(pages.get(key, 1) is not None for key in ("c", "d", "e"))


def test_a_slow_read_of_the_version_never_replaces_a_newer_one(monkeypatch):
    pages = page_cache.LocalPages(most_bytes=1_000)
    now = [100.0]
    monkeypatch.setattr(page_cache, "monotonic", lambda: now[0])
    pages.keep("page", {"version": 2, "parts": [b"new"], "gzip": None})
    pages.version_read(2, started=100.0)  # an edit saved by another thread
    pages.version_read(1, started=99.5)  # a read begun before it, answered after it
    assert pages.current("page", seconds=1) is not None
    now[0] = 100.9
    assert pages.current("page", seconds=1) is not None
    now[0] = 101.0  # counted from the start of the read: held no longer than the seconds
    assert pages.current("page", seconds=1) is None


def test_a_change_rolled_back_leaves_the_cached_pages(page_caching, condition):
    version = page_cache.content_version()
    with pytest.raises(RuntimeError), page_cache.transaction.atomic():
        make_treatment(slug="never-saved")
        raise RuntimeError
    assert page_cache.content_version() == version


def test_pages_change_with_the_date(page_caching, condition, monkeypatch, django_assert_max_num_queries):
    import datetime

    Client().get(condition.get_absolute_url())
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    monkeypatch.setattr(page_cache.timezone, "localdate", lambda: tomorrow)
    with django_assert_max_num_queries(50) as captured:
        Client().get(condition.get_absolute_url())
    assert len(captured) > 0  # rendered anew: accreditations and reviews lapse by date


def test_searches_unknown_parameters_and_visitors_with_a_session_get_a_fresh_page(
    page_caching, condition, django_assert_max_num_queries, admin_client
):
    url = condition.get_absolute_url()
    for path, params in [
        ("/en/clinics/", {"q": "seoul"}),
        ("/en/conditions/", {"q": "clonus"}),
        (url, {"utm_source": "x"}),
        (url, {"city": "x" * 200}),
    ]:
        for _ in range(2):
            with django_assert_max_num_queries(60) as captured:
                assert Client().get(path, params).status_code == 200
            assert len(captured) > 0, (path, params)
    # The filters a page understands are cached like the page itself.
    Client().get(url, {"city": "seoul"})
    with django_assert_max_num_queries(0):
        Client().get(url, {"city": "seoul"})
    # Signed in (a session): rendered for them, never from or into the cache.
    with django_assert_max_num_queries(60) as captured:
        admin_client.get(url)
    assert len(captured) > 0


def test_a_draft_previewed_by_staff_is_never_served_to_visitors(page_caching, condition, admin_client):
    from conditions.models import ConditionStatus

    draft = make_condition(slug="draft-page", status=ConditionStatus.DRAFT)
    admin_client.get(draft.get_absolute_url())
    assert Client().get(draft.get_absolute_url()).status_code == 404


def test_pages_without_a_form_answer_304_while_unchanged(page_caching, condition, django_assert_num_queries):
    first = Client().get("/en/")
    assert first.has_header("ETag") and first.has_header("Last-Modified")
    with django_assert_num_queries(0):
        again = Client().get("/en/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_with_redis_gone_pages_are_rendered_afresh(page_caching, settings, condition, monkeypatch):
    import redis

    url = "redis://127.0.0.1:6379/10"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis server")
    proxy = TcpProxy(6379).start()
    settings.CACHES = {
        **settings.CACHES,
        "pages": {
            "BACKEND": "clinic_portal.cache.RedisWithLocalFallbackCache",
            "LOCATION": f"redis://127.0.0.1:{proxy.port}/10",
            "KEY_PREFIX": f"test-{uuid.uuid4()}",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
    pages = caches["pages"]
    try:
        Client().get(condition.get_absolute_url())
        assert pages.redis.get(page_cache.VERSION_KEY)  # kept in Redis, shared by every server
        proxy.cut()
        # Once the page this process holds is older than the local seconds, Redis is asked again.
        later = time.monotonic() + settings.PAGE_CACHE_LOCAL_SECONDS + 1
        monkeypatch.setattr(page_cache, "monotonic", lambda: later)
        for _ in range(2):
            response = Client().get(condition.get_absolute_url())
            assert response.status_code == 200 and "seoul-neuro" in response.content.decode()
        assert pages.is_degraded()
    finally:
        proxy.restore()
        type(pages)._redis_down_until = 0.0
        pages.redis.delete(page_cache.VERSION_KEY)  # the pages expire by themselves
        proxy.stop()


def test_a_rebuild_of_the_clinic_matches_by_the_worker_serves_new_pages(
    page_caching, condition, django_capture_on_commit_callbacks
):
    from clinics.match_table import clinic_matches_refresh

    clinic = make_clinic()
    version = page_cache.content_version()
    with django_capture_on_commit_callbacks(execute=True):
        clinic_matches_refresh(clinic_ids=[clinic.pk])
    assert page_cache.content_version() != version


@pytest.mark.parametrize("seconds, refused", [(0, False), (1.0, False), (9.5, False), (10, True), (-1, True)])
def test_held_pages_must_not_outlast_the_pause_after_a_redis_outage(settings, seconds, refused):
    from django.core.checks import run_checks

    settings.PAGE_CACHE_LOCAL_SECONDS = seconds
    errors = [message for message in run_checks() if message.id == "clinic_portal.E003"]
    assert bool(errors) is refused
    if refused:
        assert "PAGE_CACHE_LOCAL_SECONDS" in errors[0].msg
