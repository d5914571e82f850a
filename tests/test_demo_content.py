"""The demo content itself: what the sample clinics and conditions say and how they rank.

Tests of behaviour build their own data with ``tests.factories``; the tests here are the ones whose
subject is the demo content (its ranking for clonus, its translations, what ``load_demo`` brings).
"""

import datetime
import re
from html import unescape
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import models, transaction
from django.utils import translation
from modeltranslation.utils import build_localized_fieldname

from clinics.demo.loader import english_strings as clinic_demo_strings
from clinics.demo.loader import load as load_clinics
from clinics.demo.loader import translations as clinic_demo_translations
from clinics.models import Clinic
from conditions.demo.loader import load as load_conditions
from conditions.models import Condition
from inquiries.models import Inquiry, InquiryStatus
from tests.support.demo import load_demo, run_loaders, stored_models, table_rows
from tests.support.staff import signed_in

pytestmark = pytest.mark.django_db

CLONUS_ORDER_EN = [
    "hanbit-neuroscience-hospital",
    "busan-haeundae-neuro-centre",
    "seoul-riverside-rehabilitation-hospital",
    "gangnam-movement-clinic",
    "incheon-gateway-medical-center",
    "daegu-dalseong-childrens-neurology-clinic",
    "daejeon-yuseong-spine-nerve-hospital",
    "gwangju-mudeung-rehabilitation-hospital",
    "bundang-neurology-clinic",
    "jeju-seaside-recovery-hospital",
]
TODAY = datetime.date(2026, 11, 25)


@pytest.fixture
def clonus(demo):
    return Condition.objects.with_page_content().get(slug="clonus")


def page_text(response):
    return unescape(response.content.decode())


def card_slugs(html):
    return re.findall(r'data-clinic="([^"]+)"', html)


def test_clonus_matches_expected_clinics_in_ranking_order(clonus):
    with translation.override("en"):
        matched = [
            clinic.slug for clinic in Clinic.objects.published().for_condition(clonus, "en", today=TODAY)
        ]
    assert matched == CLONUS_ORDER_EN


def test_condition_page_lists_matching_clinics_with_reasons(client, clonus):
    html = page_text(client.get("/en/conditions/clonus/"))
    assert card_slugs(html) == CLONUS_ORDER_EN
    assert "Intrathecal baclofen pump, Nerve blocks, Botulinum toxin injection and 2 more" in html
    assert "Sample data" in html
    assert 'href="/en/clinics/"' in html
    assert 'href="/en/about/ranking/"' in html


@pytest.mark.parametrize("language", ["ko", "ja", "zh-hans", "ru", "ar", "mn", "vi"])
def test_demo_clinics_are_translated_into_every_language(demo, language):
    translated = clinic_demo_translations()[language]
    assert sorted(key for key in clinic_demo_strings() if not translated.get(key, "").strip()) == []
    clinic = Clinic.objects.get(slug="busan-haeundae-neuro-centre")
    for field in ("name", "description", "district"):
        value = getattr(clinic, build_localized_fieldname(field, language))
        assert value and value != getattr(clinic, f"{field}_en"), (field, value)


def test_the_demo_brings_inquiries_in_several_states_and_staff_whose_credentials_are_shown_once(db):
    first, second = StringIO(), StringIO()
    call_command("load_demo", stdout=first)
    call_command("load_demo", stdout=second)
    demo = Inquiry.objects.filter(email__endswith="@demo.clinicportal.example")
    assert demo.count() == 6
    assert {"ru", "mn", "ar", "vi", "ja"} <= set(demo.values_list("language", flat=True))
    assert {InquiryStatus.RECEIVED, InquiryStatus.IN_REVIEW, InquiryStatus.WAITING_FOR_PATIENT} <= set(
        demo.values_list("status", flat=True)
    )
    assert demo.overdue().count() == 1
    assert demo.filter(unread_patient_messages__gt=0).count() == 1
    assert "demo-coordinator / " in first.getvalue() and "authenticator key" in first.getvalue()
    assert "authenticator key" not in second.getvalue()
    lead = signed_in(get_user_model().objects.get(username="demo-lead"))
    inbox = lead.get("/workspace/?assigned=any")
    assert inbox.status_code == 200
    assert all(reference in inbox.content.decode() for reference in demo.values_list("reference", flat=True))


def stored_content():
    """Every row of every table, without keys and timestamps (which differ from one load to the next)."""
    content = {}
    for model in stored_models():
        kept = [
            position
            for position, field in enumerate(model._meta.concrete_fields)
            if not (field.primary_key or field.is_relation or field.attname == "id")
            and not isinstance(field, models.DateTimeField)
        ]
        content[model._meta.db_table] = sorted(
            (tuple(row[position] for position in kept) for row in table_rows(model)), key=repr
        )
    return content


def test_the_demo_fixture_stores_what_the_loaders_store(db):
    """The ``demo`` fixture copies the rows of one load: the copy must be the loaders' work, whole."""
    with transaction.atomic():
        run_loaders([load_conditions, load_clinics])
        loaded = stored_content()
        transaction.set_rollback(True)
    load_demo(load_conditions, load_clinics)
    copied = stored_content()
    assert sum(map(len, copied.values())) > 500
    assert copied == loaded
