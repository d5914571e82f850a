"""Answers coordinators send often, in every language: the coordinator reads a template in their own
language and the patient receives it in theirs, with the placeholders filled in."""

from dataclasses import dataclass

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ReplyTemplate:
    key: str
    title: str | Promise  # translated when shown
    body: str | Promise

    def render(self, inquiry, language):
        """The text in ``language`` for this inquiry (its name, reference and chosen clinics)."""
        with translation.override(language):
            clinics = ", ".join(clinic.name for clinic in inquiry.preferred_clinics.all()) or "—"
            return str(self.body) % {
                "name": inquiry.full_name,
                "reference": inquiry.reference,
                "clinics": clinics,
            }


REPLY_TEMPLATES = [
    ReplyTemplate(
        "reviewing",
        _("Received, reviewing"),
        _(
            "Dear %(name)s,\n\nthank you for your request %(reference)s. A coordinator is now reading it "
            "together with your medical records. We will write to you again within two working days."
        ),
    ),
    ReplyTemplate(
        "more_records",
        _("Need more records"),
        _(
            "Dear %(name)s,\n\nto answer your request %(reference)s well, the doctors need more information: "
            "recent reports of your examinations (MRI or CT with the radiologist's report), the current "
            "diagnosis and the list of medications. Please add them on this page."
        ),
    ),
    ReplyTemplate(
        "forwarded",
        _("Forwarded to clinics"),
        _(
            "Dear %(name)s,\n\nwe have shared your request %(reference)s with %(clinics)s. We will pass on "
            "their answers, proposed treatment and cost estimates as soon as we receive them."
        ),
    ),
    ReplyTemplate(
        "not_eligible",
        _("Not eligible"),
        _(
            "Dear %(name)s,\n\nafter reading your request %(reference)s carefully, we are sorry that we "
            "cannot arrange treatment in Korea for it. Please discuss the next steps with your doctor."
        ),
    ),
    ReplyTemplate(
        "closing",
        _("Closing"),
        _(
            "Dear %(name)s,\n\nwe are closing your request %(reference)s. Thank you for your trust. If you "
            "need help again, send a new request at any time."
        ),
    ),
]
BY_KEY = {template.key: template for template in REPLY_TEMPLATES}
