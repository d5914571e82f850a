"""Two or three clinics side by side: what each offers, row by row, and which is best in each row.

Built from clinics fetched with ``ClinicQuerySet.for_comparison`` (no query of its own). A row's best
value is marked only where the clinics differ: the lowest price or shortest stay of a treatment, the
nearest airport, the most languages. Ties share the mark; a row where all are equal, or only one
clinic says anything, has none.
"""

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.utils.functional import Promise

from clinics.airports import AirportDistance, nearest_airport
from clinics.models import Accreditation, Clinic, ClinicTreatment, Doctor, Service
from conditions.models import Condition, Specialty, Treatment

MAX_COMPARED = 3
MIN_COMPARED = 2


class AccreditationState:
    CURRENT = "current"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"


@dataclass(frozen=True)
class DatedAccreditation:
    accreditation: Accreditation
    state: str

    @property
    def is_expired(self) -> bool:
        return self.state == AccreditationState.EXPIRED

    @property
    def is_not_yet_valid(self) -> bool:
        return self.state == AccreditationState.NOT_YET_VALID


@dataclass(frozen=True)
class SpokenLanguage:
    code: str
    roles: list[str]  # translated role names: coordinator, interpreter, doctor


@dataclass
class ComparedClinic:
    """One clinic's column."""

    clinic: Clinic
    specialties: list[Specialty]
    doctors: list[Doctor]
    languages: list[SpokenLanguage]
    accreditations: list[DatedAccreditation]
    airport: AirportDistance | None
    nearest_airport: bool = False
    most_languages: bool = False


@dataclass(frozen=True)
class TreatmentCell:
    """What one clinic says about one treatment; ``link`` is None when it does not offer it."""

    link: ClinicTreatment | None
    lowest_price: bool = False
    shortest_stay: bool = False

    @property
    def has_price(self) -> bool:
        return self.link is not None and (
            self.link.price_min_krw is not None or self.link.price_max_krw is not None
        )


@dataclass(frozen=True)
class TreatmentRow:
    treatment: Treatment
    cells: list[TreatmentCell]


@dataclass(frozen=True)
class ServiceRow:
    service: str
    label: Promise | str
    offered: list[bool]


@dataclass
class Comparison:
    clinics: list[ComparedClinic]
    condition: Condition | None
    treatment_rows: list[TreatmentRow] = field(default_factory=list)
    service_rows: list[ServiceRow] = field(default_factory=list)


def compare_clinics(
    clinics: Sequence[Clinic], *, condition: Condition | None = None, today: datetime.date
) -> Comparison:
    """The comparison of ``clinics`` (in the order given), for ``condition`` when given."""
    columns = [_column(clinic, today) for clinic in clinics]
    _mark_best(
        columns,
        value=lambda column: column.airport.kilometres if column.airport else None,
        mark=lambda column: setattr(column, "nearest_airport", True),
        lowest=True,
    )
    _mark_best(
        columns,
        value=lambda column: len(column.languages),
        mark=lambda column: setattr(column, "most_languages", True),
        lowest=False,
    )
    return Comparison(
        clinics=columns,
        condition=condition,
        treatment_rows=_treatment_rows(clinics),
        service_rows=[
            ServiceRow(
                service=value,
                label=label,
                offered=[any(row.service == value for row in clinic.services.all()) for clinic in clinics],
            )
            for value, label in Service.choices
        ],
    )


def _column(clinic: Clinic, today: datetime.date) -> ComparedClinic:
    return ComparedClinic(
        clinic=clinic,
        specialties=sorted(clinic.compared_specialties, key=lambda specialty: specialty.name),  # type: ignore[attr-defined]
        doctors=list(clinic.compared_doctors),  # type: ignore[attr-defined]
        languages=[SpokenLanguage(code, clinic.roles_speaking(code)) for code in clinic.language_codes()],
        accreditations=[
            DatedAccreditation(accreditation, _state(accreditation, today))
            for accreditation in sorted(
                clinic.all_accreditations,  # type: ignore[attr-defined]
                key=lambda accreditation: (
                    accreditation.get_kind_display(),
                    accreditation.valid_until or datetime.date.max,
                ),
            )
        ],
        airport=nearest_airport(clinic.latitude, clinic.longitude),
    )


def _state(accreditation: Accreditation, today: datetime.date) -> str:
    if accreditation.valid_until is not None and accreditation.valid_until < today:
        return AccreditationState.EXPIRED
    if accreditation.valid_from is not None and accreditation.valid_from > today:
        return AccreditationState.NOT_YET_VALID
    return AccreditationState.CURRENT


def _treatment_rows(clinics: Sequence[Clinic]) -> list[TreatmentRow]:
    """One row per treatment any of the clinics offers, by name in the reader's language."""
    links = [
        {link.treatment_id: link for link in clinic.compared_treatments}  # type: ignore[attr-defined]
        for clinic in clinics
    ]
    treatments = {
        link.treatment_id: link.treatment for by_treatment in links for link in by_treatment.values()
    }
    rows = []
    for treatment_id, treatment in sorted(treatments.items(), key=lambda item: item[1].name):
        offered = [by_treatment.get(treatment_id) for by_treatment in links]
        lowest_price = _best_positions([_price_from(link) for link in offered], lowest=True)
        shortest_stay = _best_positions(
            [link.typical_stay_days if link else None for link in offered], lowest=True
        )
        rows.append(
            TreatmentRow(
                treatment=treatment,
                cells=[
                    TreatmentCell(
                        link=link, lowest_price=index in lowest_price, shortest_stay=index in shortest_stay
                    )
                    for index, link in enumerate(offered)
                ],
            )
        )
    return rows


def _price_from(link: ClinicTreatment | None) -> int | None:
    """Where a clinic's price for a treatment starts (its only amount when it gives one)."""
    if link is None:
        return None
    return link.price_min_krw if link.price_min_krw is not None else link.price_max_krw


def _best_positions(values: Sequence[float | int | None], *, lowest: bool) -> set[int]:
    """Positions of the best of the known values, when at least two are known and they differ."""
    known = [value for value in values if value is not None]
    if len(known) < 2 or len(set(known)) == 1:
        return set()
    best = min(known) if lowest else max(known)
    return {index for index, value in enumerate(values) if value == best}


def _mark_best(
    columns: Sequence[ComparedClinic],
    *,
    value: Callable[[ComparedClinic], float | int | None],
    mark: Callable[[ComparedClinic], None],
    lowest: bool,
) -> None:
    for index in _best_positions([value(column) for column in columns], lowest=lowest):
        mark(columns[index])
