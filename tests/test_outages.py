"""Outages users can understand: the database gone or hung (PostgreSQL, through the test's own proxy or
its own second connection), answered with a translated 503 that says nothing was saved."""

import re

import psycopg
import pytest
from django.db import OperationalError, connection, connections
from django.test import Client

from inquiries.models import Inquiry
from tests.support.browser import browser_marks
from tests.support.outages import database_through, require_postgresql
from tests.support.patients import tr, valid_data

pytestmark = pytest.mark.django_db(transaction=True)

NOTHING_SAVED = "Nothing was saved: what you sent did not reach us."
UNAVAILABLE = "The site is briefly unavailable"


@pytest.mark.parametrize("language", ["en", "ko", "ar"])
def test_pages_answer_a_translated_503_while_the_database_is_gone(request_choices, database_proxy, language):
    client = Client(raise_request_exception=False)
    with database_through(database_proxy) as proxy:
        assert client.get(f"/{language}/conditions/clonus/").status_code == 200
        proxy.cut()
        response = client.get(f"/{language}/conditions/clonus/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert tr(language, UNAVAILABLE) in page
    assert f'lang="{language}"' in page
    assert NOTHING_SAVED not in page  # a page view saves nothing to begin with


def test_a_request_sent_while_the_database_is_gone_is_not_saved_and_can_be_sent_again(
    request_choices, database_proxy
):
    client = Client(raise_request_exception=False)
    data = valid_data(message="Clonus in both ankles, worse at night.")
    with database_through(database_proxy) as proxy:
        client.get("/ru/inquiries/new/")
        proxy.cut()
        response = client.post("/ru/inquiries/new/", data)
    assert response.status_code == 503
    page = response.content.decode()
    assert tr("ru", NOTHING_SAVED) in page
    assert "no-store" in response["Cache-Control"]
    # What the patient typed comes back, ready to be sent again (the submission key included).
    resend = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    assert resend["message"] == "Clonus in both ankles, worse at night."
    assert resend["submission_key"] == str(data["submission_key"])
    assert Inquiry.objects.count() == 0

    again = client.post("/ru/inquiries/new/", {**data})
    assert again.status_code == 302
    assert client.post("/ru/inquiries/new/", {**data}).status_code == 302  # pressed twice: stored once
    assert Inquiry.objects.count() == 1


def test_a_returning_patient_with_a_session_also_gets_the_form_back(request_choices, database_proxy):
    """Their session is read (by middleware) before the URL is resolved: the 503 still knows the form."""
    client = Client(raise_request_exception=False)
    assert client.post("/en/inquiries/new/", valid_data(email="first@example.com")).status_code == 302
    assert client.cookies.get("sessionid")
    data = valid_data(email="second@example.com", message="A second question.")
    with database_through(database_proxy) as proxy:
        proxy.cut()
        response = client.post("/en/inquiries/new/", data)
    assert response.status_code == 503
    resend = dict(
        re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', response.content.decode())
    )
    assert resend["message"] == "A second question."


def test_a_request_waiting_on_a_locked_table_gets_a_503_after_the_lock_timeout(request_choices):
    """A hung database (here: a lock another session holds) costs the patient the lock timeout."""
    require_postgresql()
    params = connection.get_connection_params()
    holder = psycopg.connect(
        **{
            key: value
            for key, value in params.items()
            if key in ("host", "port", "user", "password", "dbname")
        }
    )
    holder.execute("BEGIN")
    holder.execute("LOCK TABLE inquiries_inquiry IN ACCESS EXCLUSIVE MODE")
    try:
        connections.close_all()  # a fresh connection, with the configured timeouts
        response = Client(raise_request_exception=False).post("/en/inquiries/new/", valid_data())
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503
    assert NOTHING_SAVED in response.content.decode()
    assert Inquiry.objects.count() == 0


def test_a_slow_statement_is_cancelled_by_the_server(db):
    require_postgresql()
    with pytest.raises(OperationalError, match="statement timeout"), connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(60)")


@pytest.mark.parametrize(
    "setting", ["statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout"]
)
def test_every_connection_is_bounded(db, setting):
    require_postgresql()
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {setting}")
        assert cursor.fetchone()[0] not in ("0", "")


def test_short_queries_are_not_compiled(db):
    require_postgresql()
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


# --- in Chromium ----------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("typed", ["valid", "with a mistake"])
def test_in_chromium_the_503_page_sends_the_request_again_once_the_database_is_back(
    page, demo_site, database_proxy, language, typed
):
    for mark in browser_marks():
        if mark.name == "skip":
            pytest.skip(mark.kwargs["reason"])  # no Chromium here
    from tests.test_browser_forms import fill_request

    with database_through(database_proxy) as proxy:
        page.goto(f"{demo_site.url}/{language}/inquiries/new/")
        form = page.locator("form.inquiry-form")
        phone = "+82 10 1234 5678" if typed == "valid" else "12"
        fill_request(form, email="outage@example.com", phone=phone, consent=True)
        proxy.cut()
        form.locator("button[type=submit]").click()
        page.locator(".resend-form").wait_for()
        assert tr(language, NOTHING_SAVED) in page.content()

        proxy.restore()
        page.locator(".resend-form [type=submit]").click()
        if typed == "with a mistake":
            # Sent again, the form comes back with the mistake marked and everything else kept.
            page.locator("#form-errors").wait_for()
            form = page.locator("form.inquiry-form")
            assert form.locator("[name=message]").input_value() == (
                "Ankle clonus since a spinal injury. What can be done?"
            )
            form.locator("[name=phone]").fill("+82 10 1234 5678")
            form.locator("button[type=submit]").click()
        page.wait_for_url(f"**/{language}/inquiries/thanks/**")
    assert Inquiry.objects.filter(email="outage@example.com").count() == 1
