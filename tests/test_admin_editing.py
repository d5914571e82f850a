"""Editing content through the admin as an editor would: every form is posted back as the browser
would send it (every field of the page), unchanged and with an edit."""

import re

import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model

from clinics.models import Clinic, Doctor
from conditions.models import Condition, ConditionItem, ConditionSection
from staff.roles import CLINIC_MANAGER, CONTENT_EDITOR
from tests.factories import make_condition
from tests.support.admin_forms import as_post_data, form_pairs
from tests.support.staff import make_staff, signed_in

pytestmark = pytest.mark.django_db

# What a browser sends must stay well below Django's limit however long a condition grows.
WELL_UNDER = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS * 0.7


@pytest.fixture
def admin_client(client):
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "a-long-admin-password")
    return signed_in(admin, client=client)


def change_url(condition):
    return f"/admin/conditions/condition/{condition.pk}/change/"


def section_url(condition, section, page=None):
    url = f"/admin/conditions/condition/{condition.pk}/items/{section}/"
    return f"{url}?page={page}" if page else url


def page_form(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return form_pairs(response.content.decode(), "condition_form")


def item_values(condition):
    return list(condition.items.order_by("pk").values())


def test_condition_page_of_the_demo_clonus_saves_unchanged(demo, admin_client):
    clonus = Condition.objects.get(slug="clonus")
    items_before = item_values(clonus)
    pairs = page_form(admin_client, change_url(clonus))

    response = admin_client.post(change_url(clonus), as_post_data(pairs))

    assert response.status_code == 302
    assert response["Location"] == "/admin/conditions/condition/"
    assert len(pairs) < WELL_UNDER
    assert not any(name.startswith("items-") for name, _value in pairs)
    assert item_values(clonus) == items_before
    clonus.refresh_from_db()
    assert clonus.name_ko == "클로누스"


def test_condition_page_of_the_demo_clonus_saves_an_edit(demo, admin_client):
    clonus = Condition.objects.get(slug="clonus")
    pairs = page_form(admin_client, change_url(clonus))

    response = admin_client.post(
        change_url(clonus), as_post_data(pairs, summary_ko="클로누스: 고쳐 쓴 요약.", _continue="1")
    )

    assert response.status_code == 302
    assert response["Location"] == change_url(clonus)
    clonus.refresh_from_db()
    assert clonus.summary_ko == "클로누스: 고쳐 쓴 요약."
    assert clonus.items.count() == 35


def test_condition_page_lists_each_section_with_its_entries_and_missing_languages(demo, admin_client):
    clonus = Condition.objects.get(slug="clonus")
    first_cause = clonus.items.filter(section=ConditionSection.CAUSE).order_by("position", "pk").first()
    first_cause.text_ru = ""
    first_cause.save()

    html = admin_client.get(change_url(clonus)).content.decode()

    panel = html[html.index('id="list-sections-heading"') :]
    panel = panel[: panel.index("</table>")]
    for section, count in [("key_fact", 5), ("cause", 6), ("symptom_note", 3), ("korea_option", 6)]:
        label = ConditionSection(section).label
        row = panel[panel.index(f'<a href="{section_url(clonus, section)}">{label}</a>') :]
        cells = row[: row.index("</tr>")]
        assert f"<td>{count}</td>" in cells
        assert ("<td>ru</td>" in cells) == (section == "cause")


def test_condition_page_shows_a_clinic_manager_the_sections_without_links(demo):
    clonus = Condition.objects.get(slug="clonus")
    manager = signed_in(make_staff("clinics", CLINIC_MANAGER))

    html = manager.get(change_url(clonus)).content.decode()

    assert "Lists on the page" in html
    assert '<th scope="row">Key characteristic</th>' in html
    assert "/items/" not in html
    assert manager.get(section_url(clonus, "symptom")).status_code == 404


def test_every_section_of_the_demo_clonus_saves_unchanged(demo, admin_client):
    clonus = Condition.objects.get(slug="clonus")
    items_before = item_values(clonus)
    updated_before = clonus.updated_at

    for section in ConditionSection.values:
        pairs = page_form(admin_client, section_url(clonus, section))
        response = admin_client.post(section_url(clonus, section), as_post_data(pairs))
        assert response.status_code == 302, section
        assert response["Location"] == change_url(clonus)
        assert len(pairs) < WELL_UNDER

    assert item_values(clonus) == items_before
    clonus.refresh_from_db()
    assert clonus.updated_at == updated_before
    assert not LogEntry.objects.exists()


def test_a_section_saves_an_edited_a_new_a_moved_and_a_removed_entry(demo, admin_client):
    clonus = Condition.objects.get(slug="clonus")
    symptoms = list(clonus.items.filter(section=ConditionSection.SYMPTOM).order_by("position", "pk"))
    last_position = symptoms[-1].position
    url = section_url(clonus, "symptom")
    pairs = page_form(admin_client, url)
    new_entry = {
        name.replace("__prefix__", "5"): value
        for name, value in pairs
        if name.startswith("items-__prefix__-")
    }
    new_entry.update(
        {"items-5-text_en": "Jerking when the foot is lifted.", "items-5-text_ko": "발을 들 때 떨림."}
    )

    response = admin_client.post(
        url,
        as_post_data(
            pairs,
            **new_entry,
            **{
                "items-TOTAL_FORMS": "6",
                "items-0-text_ko": "고쳐 쓴 증상.",
                "items-1-DELETE": "on",
                "items-2-section": "symptom_note",
                "_continue": "1",
            },
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == url
    assert new_entry["items-5-position"] == str(last_position + 1)
    added = ConditionItem.objects.get(text_en="Jerking when the foot is lifted.")
    assert (added.condition, added.section, added.position) == (clonus, "symptom", last_position + 1)
    symptoms[0].refresh_from_db()
    assert symptoms[0].text_ko == "고쳐 쓴 증상."
    assert not ConditionItem.objects.filter(pk=symptoms[1].pk).exists()
    symptoms[2].refresh_from_db()
    assert symptoms[2].section == ConditionSection.SYMPTOM_NOTE
    assert clonus.items.count() == 35
    entry = LogEntry.objects.get()
    assert entry.object_id == str(clonus.pk)
    assert "Added" in entry.get_change_message() and "Deleted" in entry.get_change_message()


def test_a_section_refuses_a_new_entry_without_english_text_and_keeps_what_was_typed(demo, admin_client):
    clonus = Condition.objects.get(slug="clonus")
    url = section_url(clonus, "cause")
    pairs = page_form(admin_client, url)
    new_entry = {
        name.replace("__prefix__", "6"): value
        for name, value in pairs
        if name.startswith("items-__prefix__-")
    }
    new_entry["items-6-text_ru"] = "Только по-русски."

    response = admin_client.post(url, as_post_data(pairs, **new_entry, **{"items-TOTAL_FORMS": "7"}))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Please correct the error below." in html
    assert "Только по-русски." in html
    assert not ConditionItem.objects.filter(text_ru="Только по-русски.").exists()


def test_a_section_of_a_condition_with_100_entries_is_paged_well_under_the_field_limit(admin_client):
    condition = make_condition(symptoms=100, treatments=12)
    # The condition's own page does not grow with its entries.
    empty = make_condition(treatments=12)
    own_page = page_form(admin_client, change_url(condition))
    assert len(own_page) == len(page_form(admin_client, change_url(empty)))

    pages = [page_form(admin_client, section_url(condition, "symptom", page)) for page in range(1, 6)]

    for pairs in pages:
        data = as_post_data(pairs)
        initial = int(data["items-INITIAL_FORMS"][0])
        most = int(data["items-MAX_NUM_FORMS"][0])
        per_entry = sum(1 for name, _value in pairs if name.startswith("items-0-"))
        # Whatever an editor adds before saving, the browser can send no more than this.
        assert initial == 20
        assert len(pairs) + (most - initial) * per_entry < WELL_UNDER
    texts = [
        value
        for pairs in pages
        for name, value in pairs
        if name.startswith("items-") and name.endswith("-text_en") and "__prefix__" not in name
    ]
    assert texts == [f"Symptom {position}" for position in range(100)]
    response = admin_client.post(
        section_url(condition, "symptom", 5), as_post_data(pages[4], **{"items-19-text_en": "The last one."})
    )
    assert response.status_code == 302
    assert condition.items.get(position=99).text_en == "The last one."


def test_doctor_languages_are_ticked_and_saved_as_codes(demo, admin_client):
    clinic = Clinic.objects.filter(doctors__isnull=False).first()
    doctor = clinic.doctors.order_by("position", "pk").first()
    url = f"/admin/clinics/clinic/{clinic.pk}/change/"
    html = admin_client.get(url).content.decode()
    boxes = re.findall(
        r'<input type="checkbox" name="doctors-0-languages" value="([^"]+)"[^>]*?( checked)?>', html
    )
    assert [code for code, _checked in boxes] == [code for code, _name in settings.LANGUAGES]
    assert sorted(code for code, checked in boxes if checked) == sorted(doctor.languages)
    pairs = form_pairs(html, "clinic_form")

    response = admin_client.post(url, as_post_data(pairs, **{"doctors-0-languages": ["vi", "en", "mn"]}))

    assert response.status_code == 302
    doctor.refresh_from_db()
    assert doctor.languages == ["en", "mn", "vi"]
    refused = admin_client.post(url, as_post_data(pairs, **{"doctors-0-languages": ["en", "xx"]}))
    assert refused.status_code == 200
    assert "Select a valid choice. xx is not one of the available choices." in refused.content.decode()


def test_adding_a_clinic_asks_only_what_it_needs_and_leads_to_its_change_page(demo, admin_client):
    html = admin_client.get("/admin/clinics/clinic/add/").content.decode()
    pairs = form_pairs(html, "clinic_form")
    assert sorted(name for name, _value in pairs if name != "csrfmiddlewaretoken") == sorted(
        ["name_en", "slug", "legal_name_ko", "kind", "city", "address_ko", "address_en"]
    )
    assert "doctors-TOTAL_FORMS" not in html

    response = admin_client.post(
        "/admin/clinics/clinic/add/",
        as_post_data(
            pairs,
            name_en="Mapo Spine Clinic",
            slug="mapo-spine-clinic",
            legal_name_ko="마포척추의원",
            kind="clinic",
            city="seoul",
            address_ko="서울특별시 마포구 양화로 1",
            address_en="1 Yanghwa-ro, Mapo-gu, Seoul",
        ),
    )

    clinic = Clinic.objects.get(slug="mapo-spine-clinic")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/clinics/clinic/{clinic.pk}/change/"
    assert (clinic.name_en, clinic.is_published) == ("Mapo Spine Clinic", False)
    change = admin_client.get(response["Location"]).content.decode()
    assert "was added, unpublished. Now add its specialties" in change
    assert 'name="doctors-TOTAL_FORMS"' in change


def test_doctor_form_keeps_a_doctor_without_languages(demo, admin_client):
    doctor = Doctor.objects.first()
    url = f"/admin/clinics/clinic/{doctor.clinic_id}/change/"
    pairs = form_pairs(admin_client.get(url).content.decode(), "clinic_form")
    index = next(name for name, value in pairs if name.endswith("-id") and value == str(doctor.pk)).split(
        "-"
    )[1]
    data = as_post_data(pairs)
    data.pop(f"doctors-{index}-languages")

    response = admin_client.post(url, data)

    assert response.status_code == 302
    doctor.refresh_from_db()
    assert doctor.languages == []


def test_a_content_editor_saves_a_section(demo):
    clonus = Condition.objects.get(slug="clonus")
    editor = signed_in(make_staff("editor", CONTENT_EDITOR))
    pairs = page_form(editor, section_url(clonus, "warning_sign"))
    assert any(name.endswith("-is_urgent") for name, _value in pairs)

    response = editor.post(
        section_url(clonus, "warning_sign"), as_post_data(pairs, **{"items-0-text_vi": "Đã sửa."})
    )

    assert response.status_code == 302
    assert clonus.items.filter(section="warning_sign", text_vi="Đã sửa.").count() == 1
