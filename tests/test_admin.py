import pytest
from django.contrib.auth import get_user_model

from conditions.demo.loader import load
from conditions.models import Condition
from tests.support.staff import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "a-long-admin-password")
    return signed_in(admin, client=client)


def test_condition_admin_has_a_tab_per_language_and_loads_no_cdn(admin_client):
    load()
    clonus = Condition.objects.get(slug="clonus")
    response = admin_client.get(f"/admin/conditions/condition/{clonus.pk}/change/")
    html = response.content.decode()
    assert response.status_code == 200
    for column in (
        "name_en",
        "name_ko",
        "name_ja",
        "name_zh_hans",
        "name_ru",
        "name_ar",
        "name_mn",
        "name_vi",
    ):
        assert f'name="{column}"' in html
    assert "/static/vendor/jquery-ui/jquery-ui.min.js" in html
    assert "tabbed_translation_fields.js" in html
    assert "googleapis" not in html
    assert 'value="클로누스"' in html


def test_condition_admin_flags_overdue_reviews(admin_client):
    import datetime

    from django.utils import timezone

    load()
    today = timezone.localdate()
    Condition.objects.filter(slug="stroke-rehabilitation").update(
        next_review_due=today - datetime.timedelta(days=1)
    )
    Condition.objects.exclude(slug="stroke-rehabilitation").update(
        next_review_due=today + datetime.timedelta(days=30)
    )
    html = admin_client.get("/admin/conditions/condition/?review=overdue").content.decode()
    assert "Stroke recovery and rehabilitation" in html
    assert "Overdue" in html
    assert "/admin/conditions/condition/" in html
    assert f"/admin/conditions/condition/{Condition.objects.get(slug='clonus').pk}/change/" not in html


def test_admin_saves_a_korean_translation(admin_client):
    load()
    treatment_admin = admin_client.get("/admin/conditions/treatment/")
    assert treatment_admin.status_code == 200
    from conditions.models import Specialty

    neurology = Specialty.objects.get(slug="neurology")
    response = admin_client.post(
        f"/admin/conditions/specialty/{neurology.pk}/change/",
        {"slug": "neurology", "name_en": "Neurology", "name_ko": "신경과 (수정)", "description_en": "x"},
    )
    assert response.status_code == 302
    neurology.refresh_from_db()
    assert neurology.name_ko == "신경과 (수정)"


def test_clinic_admin_has_language_tabs_and_saving_rebuilds_search(admin_client):
    from clinics.demo.loader import load as load_clinics
    from clinics.models import Clinic

    load()
    load_clinics()
    clinic = Clinic.objects.get(slug="seomyeon-heart-clinic")
    html = admin_client.get(f"/admin/clinics/clinic/{clinic.pk}/change/").content.decode()
    for column in ("name_en", "name_ko", "name_zh_hans", "name_ar", "description_mn", "description_vi"):
        assert f'name="{column}"' in html
    assert "/static/vendor/jquery-ui/jquery-ui.min.js" in html


def test_inquiry_admin_lists_requests_with_private_download_links(admin_client, client):
    import uuid

    from clinics.demo.loader import load as load_clinics
    from inquiries.models import Attachment, Inquiry
    from tests.test_inquiries import pdf_bytes, submit, upload

    load()
    load_clinics()
    submit(client, files=[upload("scan.pdf", pdf_bytes())], submission_key=str(uuid.uuid4()))
    inquiry = Inquiry.objects.get()
    listing = admin_client.get("/admin/inquiries/inquiry/").content.decode()
    assert inquiry.reference in listing
    change = admin_client.get(f"/admin/inquiries/inquiry/{inquiry.pk}/change/").content.decode()
    attachment = Attachment.objects.get()
    assert f'href="/admin/inquiries/files/{attachment.pk}/"' in change
    assert "follow_up_token_hash" not in change
    assert admin_client.get(f"/admin/inquiries/files/{attachment.pk}/").status_code == 200
