"""A clinic's page links to its location in Naver Map, Kakao Map, OpenStreetMap and Google Maps: at its
coordinates, or by a search for its Korean address without them; nothing is loaded from those services."""

import re
from decimal import Decimal
from html import unescape

import pytest

from clinics.map_links import map_links
from tests.factories import make_clinic

ADDRESS = "부산광역시 해운대구 센텀중앙로 79"
ADDRESS_IN_URL = "%EB%B6%80%EC%82%B0%EA%B4%91%EC%97%AD%EC%8B%9C%20%ED%95%B4%EC%9A%B4%EB%8C%80%EA%B5%AC%20%EC%84%BC%ED%85%80%EC%A4%91%EC%95%99%EB%A1%9C%2079"
ADDRESS_IN_QUERY = ADDRESS_IN_URL.replace("%20", "+")


def urls(links):
    return {link.service: link.url for link in links}


def test_links_point_at_the_coordinates_and_encode_the_name():
    links = map_links(
        name="Haeundae Spine & Rehab, Centum",
        address_ko=ADDRESS,
        latitude=Decimal("35.169100"),
        longitude=Decimal("129.131900"),
    )
    assert [link.service for link in links] == ["naver", "kakao", "openstreetmap", "google"]
    assert urls(links) == {
        "naver": f"https://map.naver.com/p/search/{ADDRESS_IN_URL}",
        "kakao": "https://map.kakao.com/link/map/Haeundae%20Spine%20%26%20Rehab%2C%20Centum,35.169100,129.131900",
        "openstreetmap": "https://www.openstreetmap.org/?mlat=35.169100&mlon=129.131900#map=17/35.169100/129.131900",
        "google": "https://www.google.com/maps/search/?api=1&query=35.169100%2C129.131900",
    }


def test_negative_and_float_coordinates_keep_their_digits():
    links = urls(map_links(name="서울 클리닉", address_ko="", latitude=37.5, longitude=-0.1278))
    assert "naver" not in links  # Naver is searched by the address, which is missing
    assert (
        links["kakao"]
        == "https://map.kakao.com/link/map/%EC%84%9C%EC%9A%B8%20%ED%81%B4%EB%A6%AC%EB%8B%89,37.5,-0.1278"
    )
    assert links["google"] == "https://www.google.com/maps/search/?api=1&query=37.5%2C-0.1278"


def test_without_coordinates_each_service_searches_the_korean_address():
    assert urls(map_links(name="Clinic", address_ko=f" {ADDRESS} ", latitude=None, longitude=None)) == {
        "naver": f"https://map.naver.com/p/search/{ADDRESS_IN_URL}",
        "kakao": f"https://map.kakao.com/link/search/{ADDRESS_IN_URL}",
        "openstreetmap": f"https://www.openstreetmap.org/search?query={ADDRESS_IN_QUERY}",
        "google": f"https://www.google.com/maps/search/?api=1&query={ADDRESS_IN_QUERY}",
    }


def test_without_coordinates_or_address_there_is_no_link():
    assert map_links(name="Clinic", address_ko="  ", latitude=None, longitude=None) == []


@pytest.mark.django_db
def test_the_clinic_page_links_to_the_four_maps_and_loads_none_of_them(client):
    clinic = make_clinic(
        name_en="Centum Rehab",
        address_ko=ADDRESS,
        latitude=Decimal("35.169100"),
        longitude=Decimal("129.131900"),
    )
    html = client.get(clinic.get_absolute_url()).content.decode()
    block = html[html.index('class="map-links"') : html.index("</span>", html.index('class="map-links"'))]
    assert [unescape(href) for href in re.findall(r'href="([^"]+)"', block)] == [
        f"https://map.naver.com/p/search/{ADDRESS_IN_URL}",
        "https://map.kakao.com/link/map/Centum%20Rehab,35.169100,129.131900",
        "https://www.openstreetmap.org/?mlat=35.169100&mlon=129.131900#map=17/35.169100/129.131900",
        "https://www.google.com/maps/search/?api=1&query=35.169100%2C129.131900",
    ]
    assert block.count('rel="noopener"') == 4
    for label in ("Naver Map", "Kakao Map", "OpenStreetMap", "Google Maps"):
        assert f">{label}</a>" in block
    for host in ("map.naver.com", "map.kakao.com", "openstreetmap.org", "google.com/maps"):
        assert f'src="https://{host}' not in html and f"src='https://{host}" not in html
    assert "<iframe" not in html


@pytest.mark.django_db
def test_a_clinic_without_coordinates_links_to_address_searches(client):
    clinic = make_clinic(address_ko=ADDRESS, latitude=None, longitude=None)
    html = client.get(clinic.get_absolute_url()).content.decode()
    assert f'href="https://map.kakao.com/link/search/{ADDRESS_IN_URL}"' in html
    assert f'href="https://www.openstreetmap.org/search?query={ADDRESS_IN_QUERY}"' in html
