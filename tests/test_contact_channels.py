"""The contact channels of the request form, ordered for the reader's language: email and phone first,
then the messengers most used by readers of that language, then every other messenger."""

import re

import pytest

from inquiries.forms import MESSENGERS_FIRST, contact_channel_choices
from inquiries.models import Inquiry
from staff.roles import COORDINATOR_LEAD
from tests.support.patients import submit
from tests.support.staff import make_staff, signed_in

ALL_CHANNELS = {"email", "phone", "whatsapp", "kakaotalk", "wechat", "line", "telegram", "viber", "zalo"}

EXPECTED_FIRST = {
    "en": ["email", "phone", "whatsapp"],
    "ko": ["email", "phone", "kakaotalk"],
    "ja": ["email", "phone", "line"],
    "zh-hans": ["email", "phone", "wechat"],
    "ru": ["email", "phone", "telegram", "whatsapp", "viber"],
    "ar": ["email", "phone", "whatsapp", "telegram"],
    "mn": ["email", "phone", "viber", "kakaotalk", "whatsapp"],
    "vi": ["email", "phone", "zalo", "viber"],
}


def options_of(html):
    select = re.search(r'<select name="contact_channel"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"', select)


@pytest.mark.parametrize("language", EXPECTED_FIRST)
def test_each_language_lists_its_messengers_after_email_and_phone_then_all_the_others(language):
    values = [value for value, _label in contact_channel_choices(language)]
    first = EXPECTED_FIRST[language]
    assert values[: len(first) + 1] == ["", *first]
    assert set(values[1:]) == ALL_CHANNELS and len(values) == len(ALL_CHANNELS) + 1


def test_every_language_of_the_site_has_its_messengers(settings):
    assert set(MESSENGERS_FIRST) == {code for code, _name in settings.LANGUAGES}


def test_an_unknown_language_gets_email_and_phone_then_the_usual_order():
    values = [value for value, _label in contact_channel_choices("de")]
    assert values == [
        "",
        "email",
        "phone",
        "whatsapp",
        "kakaotalk",
        "wechat",
        "line",
        "telegram",
        "viber",
        "zalo",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ru", "vi", "ja"])
def test_the_request_form_orders_the_channels_in_the_page_language(client, language):
    html = client.get(f"/{language}/inquiries/new/").content.decode()
    assert options_of(html)[: len(EXPECTED_FIRST[language]) + 1] == ["", *EXPECTED_FIRST[language]]


@pytest.mark.django_db
def test_a_request_asking_for_zalo_is_saved_and_shown_to_the_coordinator(client, demo):
    response = submit(
        client, page_language="vi", language="vi", contact_channel="zalo", contact_handle="0912345678"
    )
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert (inquiry.contact_channel, inquiry.get_contact_channel_display()) == ("zalo", "Zalo")

    lead = signed_in(make_staff("lead", COORDINATOR_LEAD))
    html = lead.get(f"/workspace/{inquiry.reference}/").content.decode()
    assert "Zalo 0912345678" in re.sub(r"\s+", " ", html)


@pytest.mark.django_db
def test_viber_without_a_handle_or_phone_is_refused(client, demo):
    response = submit(client, contact_channel="viber", contact_handle="", phone="")
    assert response.status_code == 400
    assert "Enter your ID or number on that app." in response.content.decode()
    assert not Inquiry.objects.exists()
