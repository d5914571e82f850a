"""Links that open a clinic's location in the map services patients use in Korea.

Links only: the page loads nothing from these services (no script, frame or tile), so the content
security policy stays as it is and no visitor data reaches them until the visitor follows a link.
"""

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote, urlencode

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class MapLink:
    service: str  # a stable key (tests, CSS)
    label: str | Promise
    url: str


def _coordinate(value: Decimal | float) -> str:
    return format(Decimal(str(value)), "f")


def map_links(
    *, name: str, address_ko: str, latitude: Decimal | float | None, longitude: Decimal | float | None
) -> list[MapLink]:
    """Naver Map, Kakao Map, OpenStreetMap and Google Maps links to this place: at its coordinates
    when it has them, else a search for its Korean address (empty when it has neither).

    Naver documents a web link only for a search (its coordinate links are for its app), so its link
    searches for the Korean address, which Naver resolves to the building."""
    has_coordinates = latitude is not None and longitude is not None
    if not has_coordinates and not address_ko.strip():
        return []
    address = quote(address_ko.strip(), safe="")
    if has_coordinates:
        assert latitude is not None and longitude is not None
        lat, lng = _coordinate(latitude), _coordinate(longitude)
        kakao = f"https://map.kakao.com/link/map/{quote(name, safe='')},{lat},{lng}"
        osm = f"https://www.openstreetmap.org/?mlat={lat}&mlon={lng}#map=17/{lat}/{lng}"
        google = f"https://www.google.com/maps/search/?{urlencode({'api': 1, 'query': f'{lat},{lng}'})}"
    else:
        kakao = f"https://map.kakao.com/link/search/{address}"
        osm = f"https://www.openstreetmap.org/search?{urlencode({'query': address_ko.strip()})}"
        google = f"https://www.google.com/maps/search/?{urlencode({'api': 1, 'query': address_ko.strip()})}"
    links = [
        MapLink("kakao", _("Kakao Map"), kakao),
        MapLink("openstreetmap", _("OpenStreetMap"), osm),
        MapLink("google", _("Google Maps"), google),
    ]
    if address:
        links.insert(0, MapLink("naver", _("Naver Map"), f"https://map.naver.com/p/search/{address}"))
    return links
