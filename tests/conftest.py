import os

import pytest
from django.utils import translation

from tests.support.browser import CHROMIUM

# Playwright's sync API runs an event loop in the test thread; the ORM calls from tests are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _restore_language():
    previous = translation.get_language()
    yield
    translation.activate(previous)


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private-media"
    settings.ERASURE_LOG = tmp_path / "erasure-log.jsonl"
    settings.BACKUP_DIR = tmp_path / "backups"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counters live in the cache: every test starts with none, and with Redis taken for
    reachable (a Redis outage is remembered by the process, not by one cache object)."""
    from django.core.cache import cache

    from clinic_portal.cache import RedisWithLocalFallbackCache
    from clinic_portal.page_cache import local_pages

    RedisWithLocalFallbackCache._redis_down_until = 0.0
    cache.clear()
    local_pages.clear()  # pages this process holds would outlive the shared cache's clearing
    yield
    cache.clear()
    local_pages.clear()
    RedisWithLocalFallbackCache._redis_down_until = 0.0


@pytest.fixture
def demo(db):
    """The demo conditions and clinics, in every language."""
    from clinics.demo.loader import load as load_clinics
    from conditions.demo.loader import load as load_conditions
    from tests.support.demo import load_demo
    from travel.demo.loader import load as load_travel_guide

    # Loaded once per test process; later tests get a copy of the rows (see tests.support.demo).
    load_demo(load_conditions, load_clinics, load_travel_guide)


@pytest.fixture
def redis_cache(settings):
    """The production cache: a real Redis server (database 15, or 14, 13… for the second, third…
    parallel test process; emptied before and after)."""
    import os

    import redis

    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    url = os.environ.get("TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - worker % 5}")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("REQUIRE_REDIS"):
            raise
        pytest.skip("no Redis server")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def request_choices(db):
    """The condition and clinics the request form's valid data chooses (tests.support.patients), made
    by factories: for tests of the form's behaviour, which is not about the demo content."""
    from tests.factories import make_request_choices

    return make_request_choices()


@pytest.fixture
def two_inquiries(client, request_choices):
    """Two stored requests (ru and vi) and their private follow-up links; the outbox emptied."""
    from django.core import mail

    from inquiries.models import Inquiry
    from tests.support.patients import follow_up_url_from, submit

    submit(client, email="first@example.com")
    submit(client, email="second@example.com", language="vi")
    links = {email.to[0]: follow_up_url_from(email) for email in mail.outbox if "example.com" in email.to[0]}
    first = Inquiry.objects.get(email="first@example.com")
    second = Inquiry.objects.get(email="second@example.com")
    mail.outbox.clear()
    return first, links["first@example.com"], second, links["second@example.com"]


@pytest.fixture
def coordinator(db):
    """A coordinator (the role): reads, answers and downloads every inquiry (no clinic limit)."""
    from staff.roles import COORDINATOR
    from tests.support.staff import make_staff

    return make_staff("coordinator", COORDINATOR)


@pytest.fixture
def lead(db):
    """A coordinator lead: also assigns, exports and erases."""
    from staff.roles import COORDINATOR_LEAD
    from tests.support.staff import make_staff

    return make_staff("lead", COORDINATOR_LEAD)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
        ],
    }


@pytest.fixture
def demo_site(live_server):
    """The live server with the demo content (for browser tests, which need committed data)."""
    from clinics.demo.loader import load as load_clinics
    from conditions.demo.loader import load as load_conditions
    from tests.support.demo import load_demo
    from travel.demo.loader import load as load_travel_guide

    load_demo(load_conditions, load_clinics, load_travel_guide)
    return live_server


@pytest.fixture
def console_errors(page):
    """Errors the page logs in the browser console (a CSP violation, a failed asset)."""
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return errors


@pytest.fixture
def database_proxy():
    """A TCP proxy of the test's own in front of the PostgreSQL server: the test cuts it, not the server."""
    from django.db import connection

    from tests.support.outages import TcpProxy, require_postgresql

    require_postgresql()
    proxy = TcpProxy(int(connection.settings_dict["PORT"] or 5432)).start()
    yield proxy
    proxy.stop()
