"""The clinics' published answers as the patient compares them on the follow-up page.

Clinics quote in won; the patient also sees each price range in US dollars and in the currency of
their country of residence, converted at the configured rates (``settings.EXCHANGE_RATES_KRW``, won per
unit) and labelled as an estimate at the rates' date.
"""

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import get_territory_currencies
from django.conf import settings
from django.db.models import Prefetch

from clinic_portal.templatetags.portal import format_estimate_range
from clinics.models import Accreditation
from referrals.forms import OfferResponseForm
from referrals.models import ClinicAnswer

REFERENCE_CURRENCY = "USD"


def published_answers(inquiry):
    """The clinics' answers to this inquiry that a coordinator has published to the patient."""
    return (
        ClinicAnswer.objects.published().filter(referral__inquiry=inquiry).select_related("referral__clinic")
    )


def published_offers(inquiry):
    """The published answers with everything the comparison shows, in four queries however many."""
    return (
        published_answers(inquiry)
        .select_related("doctor")
        .prefetch_related(
            "treatments",
            "referral__clinic__languages",
            Prefetch(
                "referral__clinic__accreditations",
                queryset=Accreditation.objects.current().order_by("kind"),
                to_attr="current_accreditations",
            ),
        )
        .order_by("published_at", "pk")
    )


def patient_currency(country_code):
    """The first currency of the patient's country that has a configured rate; None for a country whose
    currency has none (or is the won, or the US dollar already shown)."""
    if not country_code:
        return None
    for currency in get_territory_currencies(str(country_code)):
        if currency in settings.EXCHANGE_RATES_KRW:
            return None if currency == REFERENCE_CURRENCY else currency
    return None


def comparison_currencies(inquiry):
    """The currencies the estimates are shown in: US dollars, then the patient's own when different."""
    own = patient_currency(inquiry.country.code if inquiry.country else None)
    return [REFERENCE_CURRENCY, *([own] if own else [])]


def rates_date():
    return datetime.date.fromisoformat(settings.EXCHANGE_RATES_DATE)


def converted(amount_krw, currency):
    if amount_krw is None:
        return None
    return Decimal(amount_krw) / Decimal(str(settings.EXCHANGE_RATES_KRW[currency]))


@dataclass(frozen=True)
class PriceEstimate:
    currency: str
    text: str


def price_estimates(answer, currencies):
    """The answer's price range in each currency, formatted in the active language; none without a price."""
    if answer.price_min_krw is None and answer.price_max_krw is None:
        return []
    return [
        PriceEstimate(
            currency=currency,
            text=format_estimate_range(
                converted(answer.price_min_krw, currency), converted(answer.price_max_krw, currency), currency
            ),
        )
        for currency in currencies
    ]


@dataclass
class Offer:
    """One column of the comparison: a published answer, its estimates and the patient's form for it."""

    answer: ClinicAnswer
    estimates: list
    form: object

    @property
    def clinic(self):
        return self.answer.referral.clinic


def offer_prefix(answer):
    return f"offer-{answer.pk}"


def follow_up_panel(request, inquiry, token, state):
    """The published answers side by side on the patient's follow-up page, each with its form (the
    refused one as the patient sent it); None while there is none (``settings.FOLLOW_UP_PAGE_PANELS``)."""
    refused = state.get("offer_form")
    currencies = comparison_currencies(inquiry)
    offers = [
        Offer(
            answer=answer,
            estimates=price_estimates(answer, currencies),
            form=(
                refused
                if refused is not None and refused.prefix == offer_prefix(answer)
                else OfferResponseForm(prefix=offer_prefix(answer), initial={"submission_key": uuid.uuid4()})
            ),
        )
        for answer in published_offers(inquiry)
    ]
    if not offers:
        return None
    return {"template": "referrals/_offer_comparison.html", "offers": offers, "rates_date": rates_date()}
