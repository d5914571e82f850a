"""South Korea's international airports, and how far a clinic is from the nearest one.

A patient flying in wants to know how far the clinic is from where they land. The distance is the
great-circle distance (haversine) from the clinic's coordinates to the airport's terminal: a straight
line, shorter than the road, said as "about" so.
"""

import math
from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)


@dataclass(frozen=True)
class Airport:
    code: str  # IATA
    name: Promise  # translated when shown
    latitude: float
    longitude: float


# Airports with scheduled international flights, by IATA code (coordinates of the passenger terminal).
AIRPORTS: tuple[Airport, ...] = (
    Airport("ICN", _("Incheon International Airport"), 37.4491, 126.4506),
    Airport("GMP", _("Gimpo International Airport"), 37.5587, 126.7945),
    Airport("PUS", _("Gimhae International Airport"), 35.1733, 128.9469),
    Airport("CJU", _("Jeju International Airport"), 33.5066, 126.4929),
    Airport("TAE", _("Daegu International Airport"), 35.8991, 128.6394),
    Airport("CJJ", _("Cheongju International Airport"), 36.7166, 127.4991),
    Airport("MWX", _("Muan International Airport"), 34.9914, 126.3828),
    Airport("YNY", _("Yangyang International Airport"), 38.0613, 128.6692),
)


@dataclass(frozen=True)
class AirportDistance:
    airport: Airport
    kilometres: float

    @property
    def rounded_kilometres(self) -> int:
        """Whole kilometres, at least 1: "about 0 km" would say the clinic is in the terminal."""
        return max(1, round(self.kilometres))


def haversine_km(latitude_a: float, longitude_a: float, latitude_b: float, longitude_b: float) -> float:
    """The great-circle distance between two points given in degrees, in kilometres."""
    phi_a, phi_b = math.radians(latitude_a), math.radians(latitude_b)
    delta_phi = phi_b - phi_a
    delta_lambda = math.radians(longitude_b - longitude_a)
    h = math.sin(delta_phi / 2) ** 2 + math.cos(phi_a) * math.cos(phi_b) * math.sin(delta_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def nearest_airport(
    latitude: Decimal | float | None, longitude: Decimal | float | None
) -> AirportDistance | None:
    """The international airport closest to a point, and how far it is; None without coordinates."""
    if latitude is None or longitude is None:
        return None
    distances = (
        AirportDistance(
            airport, haversine_km(float(latitude), float(longitude), airport.latitude, airport.longitude)
        )
        for airport in AIRPORTS
    )
    return min(distances, key=lambda distance: distance.kilometres)
