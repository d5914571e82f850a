"""Clinics in bulk: the columns of the clinic list's import and export files (CSV or XLSX).

One row per clinic, found by its slug. Translated fields have a column per language (``name_en``,
``name_ko``, …); the rows linked to a clinic are written in one cell each, entries separated by
semicolons (the format is described in the README, "Importing clinics", and shown by
``clinics/import/sample-clinics.csv``). A mistake anywhere makes that row invalid, with the reason
under its column; an import with any invalid row saves nothing.
"""

import datetime
import re
from decimal import Decimal, InvalidOperation
from html import escape

from diff_match_patch import diff_match_patch
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_str
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from import_export import resources, widgets
from import_export.admin import ImportExportMixin
from import_export.fields import Field
from import_export.formats import base_formats
from import_export.forms import ExportForm
from modeltranslation.translator import translator
from modeltranslation.utils import build_localized_fieldname
from phonenumber_field.modelfields import PhoneNumberField

from clinics.models import (
    Accreditation,
    AccreditationKind,
    Clinic,
    ClinicLanguage,
    ClinicService,
    ClinicTreatment,
    LanguageRole,
    Service,
)
from conditions.models import Specialty, Treatment

SEPARATOR = ";"
LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


def _localized(field):
    return [build_localized_fieldname(field, code) for code in LANGUAGE_CODES]


# Every field an editor fills in on the clinic's admin page, in the order of its form.
CLINIC_COLUMNS = [
    "slug",
    *_localized("name"),
    "legal_name_ko",
    "kind",
    "is_published",
    "is_sample",
    *_localized("description"),
    "city",
    *_localized("district"),
    "address_ko",
    "address_en",
    "latitude",
    "longitude",
    "phone",
    "website",
    "contact_email",
    "contact_language",
    "year_founded",
    "bed_count",
    "has_international_centre",
    "foreign_patient_registration_number",
    "registration_verified_on",
]
LINK_COLUMNS = ["specialties", "languages", "services", "accreditations", "treatments"]
COLUMNS = [*CLINIC_COLUMNS, *LINK_COLUMNS]


def _choices(values):
    return ", ".join(values)


# --- Cells of the clinic's own fields -------------------------------------------------------------


class FlagWidget(widgets.Widget):
    """Yes or no: ``true``/``false`` (also 1/0, yes/no); an empty cell is no."""

    TRUE = {"true", "1", "yes"}
    FALSE = {"false", "0", "no", ""}

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        text = "" if value is None else force_str(value).strip().lower()
        if text.endswith(".0"):  # a spreadsheet's number
            text = text[:-2]
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(_("Write true or false (or 1 or 0)."))

    def render(self, value, obj=None, **kwargs):
        if kwargs.get("force_native_type"):
            return bool(value)
        return "true" if value else "false"


class IsoDateWidget(widgets.Widget):
    """A date written YYYY-MM-DD (a spreadsheet's own date cells are taken as they are)."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = "" if value is None else force_str(value).strip()
        if not text:
            return None
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            raise ValueError(
                _("“%(value)s” is not a date: write it as YYYY-MM-DD.") % {"value": text}
            ) from None

    def render(self, value, obj=None, **kwargs):
        if kwargs.get("force_native_type"):
            return value
        return value.isoformat() if value else ""


class WholeNumberWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        if isinstance(value, int | float) and not isinstance(value, bool) and value == int(value):
            return int(value)
        text = "" if value is None else force_str(value).strip().replace(",", "")
        if not text:
            return None
        if not text.isdigit():
            raise ValueError(_("“%(value)s” is not a whole number.") % {"value": value})
        return int(text)

    def render(self, value, obj=None, **kwargs):
        if kwargs.get("force_native_type"):
            return value
        return "" if value is None else str(value)


class DecimalNumberWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = "" if value is None else force_str(value).strip()
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise ValueError(
                _("“%(value)s” is not a number: write it with a point, e.g. 37.5796.") % {"value": text}
            )
        return number

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return None if kwargs.get("force_native_type") else ""
        # A spreadsheet keeps numbers as floats: the text keeps every decimal.
        return str(value)


class TextWidget(widgets.CharWidget):
    """Text, also for values that are not strings in Python (a phone number)."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, float) and value == int(value):
            value = int(value)
        return super().clean(value, row, **kwargs).strip()

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else force_str(value)


# --- Cells listing the rows linked to a clinic ----------------------------------------------------


class LinkColumn(Field):
    """A cell listing a clinic's linked rows, entries separated by semicolons.

    On import the cell is read into entries (a ``ValueError`` becomes the row's error in this
    column) and kept on the clinic until it is saved; ``write`` then makes the linked rows match,
    with ``save()``/``delete()``/``.set()`` one by one so that signals and the history see every
    change. Entries are kept sorted, so that a cell compares equal whatever order it was written in.
    """

    def __init__(self, column_name):
        super().__init__(attribute=column_name, column_name=column_name, widget=widgets.CharWidget())

    # What each kind of linked row defines.
    def read_entry(self, text):
        raise NotImplementedError

    def write_entry(self, entry):
        raise NotImplementedError

    def saved_entries(self, clinic):
        raise NotImplementedError

    def write(self, clinic, entries, reason):
        raise NotImplementedError

    def entry_key(self, entry):
        """What may appear only once in a cell."""
        return entry

    def sort_key(self, entry):
        return tuple("" if part is None else str(part) for part in _as_tuple(entry))

    def clean(self, row, **kwargs):
        value = row.get(self.column_name)
        text = "" if value is None else force_str(value)
        entries, keys = [], set()
        for part in text.split(SEPARATOR):
            part = " ".join(part.split())
            if not part:
                continue
            entry = self.read_entry(part)
            if self.entry_key(entry) in keys:
                raise ValueError(_("“%(entry)s” is listed twice.") % {"entry": part})
            keys.add(self.entry_key(entry))
            entries.append(entry)
        return sorted(entries, key=self.sort_key)

    def save(self, instance, row, is_m2m=False, **kwargs):
        _pending_links(instance)[self.column_name] = self.clean(row)

    def entries(self, clinic):
        """The entries being imported, else those saved."""
        pending = _pending_links(clinic)
        if self.column_name in pending:
            return pending[self.column_name]
        if clinic.pk is None:
            return []
        return sorted(self.saved_entries(clinic), key=self.sort_key)

    def pending_entries(self, clinic):
        return _pending_links(clinic).get(self.column_name)

    def get_value(self, instance):
        return self.entries(instance)

    def export(self, instance, **kwargs):
        return f"{SEPARATOR} ".join(self.write_entry(entry) for entry in self.entries(instance))

    def _lookup(self, model):
        """The model's rows by slug, read once per import."""
        if getattr(self, "_rows_by_slug", None) is None:
            self._rows_by_slug = model.objects.in_bulk(field_name="slug")
        return self._rows_by_slug


def _as_tuple(entry):
    return entry if isinstance(entry, tuple) else (entry,)


def _pending_links(clinic):
    return clinic.__dict__.setdefault("_imported_links", {})


def _saved_with_reason(row, reason):
    row._change_reason = reason
    row.save()


def _deleted_with_reason(row, reason):
    row._change_reason = reason
    row.delete()


class SpecialtiesColumn(LinkColumn):
    """``neurology; rehabilitation-medicine``: specialty slugs."""

    def read_entry(self, text):
        if text not in self._lookup(Specialty):
            raise ValueError(_("There is no specialty with the slug “%(slug)s”.") % {"slug": text})
        return text

    def write_entry(self, entry):
        return entry

    def saved_entries(self, clinic):
        return [specialty.slug for specialty in clinic.specialties.all()]

    def write(self, clinic, entries, reason):
        specialties = self._lookup(Specialty)
        clinic.specialties.set([specialties[slug] for slug in entries])


class LanguagesColumn(LinkColumn):
    """``en:coordinator; ru:interpreter``: language code, then who speaks it."""

    def read_entry(self, text):
        code, colon, role = (part.strip() for part in text.partition(":"))
        if not colon:
            raise ValueError(_("Write “%(entry)s” as language:role, e.g. en:coordinator.") % {"entry": text})
        if code not in LANGUAGE_CODES:
            raise ValueError(
                _("Unknown language “%(code)s”: use one of %(choices)s.")
                % {"code": code, "choices": _choices(LANGUAGE_CODES)}
            )
        if role not in LanguageRole.values:
            raise ValueError(
                _("Unknown role “%(role)s”: use one of %(choices)s.")
                % {"role": role, "choices": _choices(LanguageRole.values)}
            )
        return code, role

    def write_entry(self, entry):
        return "{}:{}".format(*entry)

    def sort_key(self, entry):
        code, role = entry
        return LANGUAGE_CODES.index(code), LanguageRole.values.index(role)

    def saved_entries(self, clinic):
        return [(row.language, row.role) for row in clinic.languages.all()]

    def write(self, clinic, entries, reason):
        saved = {(row.language, row.role): row for row in clinic.languages.all()}
        for key, row in saved.items():
            if key not in entries:
                _deleted_with_reason(row, reason)
        for language, role in entries:
            if (language, role) not in saved:
                _saved_with_reason(ClinicLanguage(clinic=clinic, language=language, role=role), reason)


class ServicesColumn(LinkColumn):
    """``interpreter; airport_pickup``: service codes."""

    def read_entry(self, text):
        if text not in Service.values:
            raise ValueError(
                _("Unknown service “%(service)s”: use one of %(choices)s.")
                % {"service": text, "choices": _choices(Service.values)}
            )
        return text

    def write_entry(self, entry):
        return entry

    def sort_key(self, entry):
        return Service.values.index(entry)

    def saved_entries(self, clinic):
        return [row.service for row in clinic.services.all()]

    def write(self, clinic, entries, reason):
        saved = {row.service: row for row in clinic.services.all()}
        for service, row in saved.items():
            if service not in entries:
                _deleted_with_reason(row, reason)
        for service in entries:
            if service not in saved:
                _saved_with_reason(ClinicService(clinic=clinic, service=service), reason)


CERTIFICATE_MAX_LENGTH = Accreditation._meta.get_field("certificate_number").max_length


class AccreditationsColumn(LinkColumn):
    """``jci 2024-07-01..2029-06-30 #JCI-001``: kind, then optionally the validity (either end may be
    left out: ``2024-07-01..``) and, after ``#``, the certificate number."""

    def read_entry(self, text):
        described, _hash, certificate = text.partition("#")
        kind, _space, validity = described.strip().partition(" ")
        certificate = certificate.strip()
        if kind not in AccreditationKind.values:
            raise ValueError(
                _("Unknown accreditation “%(kind)s”: use one of %(choices)s.")
                % {"kind": kind, "choices": _choices(AccreditationKind.values)}
            )
        valid_from = valid_until = None
        if validity.strip():
            start, dots, end = (part.strip() for part in validity.partition(".."))
            if not dots:
                raise ValueError(
                    _("Write the validity of “%(entry)s” as FROM..UNTIL, e.g. 2024-07-01..2029-06-30.")
                    % {"entry": text}
                )
            valid_from, valid_until = _date_or_none(start), _date_or_none(end)
        if valid_from and valid_until and valid_from > valid_until:
            raise ValueError(_("“%(entry)s” ends before it starts.") % {"entry": text})
        if len(certificate) > CERTIFICATE_MAX_LENGTH:
            raise ValueError(
                _("The certificate number of “%(entry)s” is longer than %(limit)d characters.")
                % {"entry": text, "limit": CERTIFICATE_MAX_LENGTH}
            )
        return kind, valid_from, valid_until, certificate

    def write_entry(self, entry):
        kind, valid_from, valid_until, certificate = entry
        parts = [kind]
        if valid_from or valid_until:
            parts.append(f"{_iso(valid_from)}..{_iso(valid_until)}")
        if certificate:
            parts.append(f"#{certificate}")
        return " ".join(parts)

    def saved_entries(self, clinic):
        return [
            (row.kind, row.valid_from, row.valid_until, row.certificate_number)
            for row in clinic.accreditations.all()
        ]

    def write(self, clinic, entries, reason):
        kept = set()
        for row in clinic.accreditations.all():
            entry = (row.kind, row.valid_from, row.valid_until, row.certificate_number)
            if entry in entries and entry not in kept:
                kept.add(entry)
            else:
                _deleted_with_reason(row, reason)
        for kind, valid_from, valid_until, certificate in entries:
            if (kind, valid_from, valid_until, certificate) not in kept:
                accreditation = Accreditation(
                    clinic=clinic,
                    kind=kind,
                    valid_from=valid_from,
                    valid_until=valid_until,
                    certificate_number=certificate,
                )
                _saved_with_reason(accreditation, reason)


def _date_or_none(text):
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ValueError(_("“%(value)s” is not a date: write it as YYYY-MM-DD.") % {"value": text}) from None


def _iso(date):
    return date.isoformat() if date else ""


TREATMENT_DETAILS = re.compile(
    r"""^(?:(?P<price>(?P<min>\d[\d,]*)?\s*(?P<dash>-)?\s*(?P<max>\d[\d,]*)?)\s*KRW)?
        \s*(?:(?P<stay>\d+)\s*days?)?$""",
    re.IGNORECASE | re.VERBOSE,
)
PRICE_LIMIT = 2_147_483_647  # the largest PositiveIntegerField on every database
STAY_LIMIT = 32_767


class TreatmentsColumn(LinkColumn):
    """``botulinum-toxin-injection 300000-900000 KRW 1 day``: treatment slug, then optionally the
    indicative price (``300000-900000 KRW``, ``300000 KRW``, ``300000- KRW`` for "from") and the
    typical stay (``3 days``). The treatment's note is not in the file: it is edited in the admin and
    kept while the treatment stays listed."""

    def read_entry(self, text):
        slug, _space, details = text.partition(" ")
        if slug not in self._lookup(Treatment):
            raise ValueError(_("There is no treatment with the slug “%(slug)s”.") % {"slug": slug})
        match = TREATMENT_DETAILS.match(details.strip())
        if match is None or (match["price"] is not None and not (match["min"] or match["max"])):
            raise ValueError(
                _(
                    "Write “%(entry)s” as the treatment's slug, then optionally a price such as "
                    "300000-900000 KRW and a stay such as 3 days."
                )
                % {"entry": text}
            )
        price_min, price_max = _number(match["min"]), _number(match["max"])
        if match["min"] and not match["dash"]:
            price_max = price_min  # one price
        stay = _number(match["stay"])
        if price_min is not None and price_max is not None and price_min > price_max:
            raise ValueError(_("The price range of “%(entry)s” starts above its end.") % {"entry": text})
        if any(price is not None and price > PRICE_LIMIT for price in (price_min, price_max)) or (
            stay is not None and stay > STAY_LIMIT
        ):
            raise ValueError(_("A number in “%(entry)s” is too large.") % {"entry": text})
        return slug, price_min, price_max, stay

    def write_entry(self, entry):
        slug, price_min, price_max, stay = entry
        parts = [slug]
        if price_min is not None and price_min == price_max:
            parts.append(f"{price_min} KRW")
        elif price_min is not None or price_max is not None:
            parts.append(f"{_blank(price_min)}-{_blank(price_max)} KRW")
        if stay is not None:
            parts.append(f"{stay} day" if stay == 1 else f"{stay} days")
        return " ".join(parts)

    def entry_key(self, entry):
        return entry[0]

    def saved_entries(self, clinic):
        return [
            (row.treatment.slug, row.price_min_krw, row.price_max_krw, row.typical_stay_days)
            for row in clinic.clinic_treatments.all()
        ]

    def write(self, clinic, entries, reason):
        wanted = {slug: details for slug, *details in entries}
        saved = {row.treatment.slug: row for row in clinic.clinic_treatments.select_related("treatment")}
        for slug, row in saved.items():
            if slug not in wanted:
                _deleted_with_reason(row, reason)
        treatments = self._lookup(Treatment)
        for slug, (price_min, price_max, stay) in wanted.items():
            row = saved.get(slug) or ClinicTreatment(clinic=clinic, treatment=treatments[slug])
            if row.pk and (row.price_min_krw, row.price_max_krw, row.typical_stay_days) == (
                price_min,
                price_max,
                stay,
            ):
                continue
            row.price_min_krw, row.price_max_krw, row.typical_stay_days = price_min, price_max, stay
            _saved_with_reason(row, reason)


def _number(text):
    return int(text.replace(",", "")) if text else None


def _blank(number):
    return "" if number is None else number


# --- The preview ----------------------------------------------------------------------------------


class MarkedDiff(resources.Diff):
    """The preview's changes marked with <ins>/<del> and no inline style (the admin's CSP forbids
    them; import-export's stylesheet colours the marks)."""

    def as_html(self):
        differ = diff_match_patch()
        cells = []
        for before, after in zip(self.left, self.right, strict=False):
            if before != after and self.new:
                before = ""
            changes = differ.diff_main(force_str(before), force_str(after))
            differ.diff_cleanupSemantic(changes)
            cells.append(mark_safe("".join(_marked(operation, text) for operation, text in changes)))  # noqa: S308
        return cells


def _marked(operation, text):
    tag = {diff_match_patch.DIFF_INSERT: "ins", diff_match_patch.DIFF_DELETE: "del"}.get(operation, "span")
    return f"<{tag}>{escape(text)}</{tag}>"


# --- The resource ---------------------------------------------------------------------------------


class ClinicResource(resources.ModelResource):
    specialties = SpecialtiesColumn("specialties")
    languages = LanguagesColumn("languages")
    services = ServicesColumn("services")
    accreditations = AccreditationsColumn("accreditations")
    treatments = TreatmentsColumn("treatments")

    class Meta:
        model = Clinic
        fields = COLUMNS
        import_order = COLUMNS
        export_order = COLUMNS
        import_id_fields = ["slug"]
        use_transactions = True
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    # Widgets by model field class, the first that matches (a phone number field is a text field).
    WIDGETS_BY_FIELD = [
        (PhoneNumberField, TextWidget),
        (models.BooleanField, FlagWidget),
        (models.DateField, IsoDateWidget),
        (models.DecimalField, DecimalNumberWidget),
        (models.IntegerField, WholeNumberWidget),
        (models.CharField, TextWidget),
        (models.TextField, TextWidget),
    ]

    @classmethod
    def widget_from_django_field(cls, f, default=widgets.Widget):
        for field_class, widget in cls.WIDGETS_BY_FIELD:
            if isinstance(f, field_class):
                return widget
        return super().widget_from_django_field(f, default)

    @classmethod
    def get_diff_class(cls):
        return MarkedDiff

    def get_queryset(self):
        return Clinic.objects.all()

    def filter_export(self, queryset, **kwargs):
        return queryset.prefetch_related(
            "specialties", "languages", "services", "accreditations", "clinic_treatments__treatment"
        )

    def import_data(self, dataset, **kwargs):
        # All or nothing: a single invalid row leaves the database as it was.
        kwargs["rollback_on_validation_errors"] = True
        kwargs["use_transactions"] = True
        return super().import_data(dataset, **kwargs)

    def link_columns(self):
        return [field for field in self.get_import_fields() if isinstance(field, LinkColumn)]

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors or original is None or original.pk is None:
            return False
        return all(
            field.get_value(instance) == field.get_value(original) for field in self.get_import_fields()
        )

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        if instance.is_published:
            specialties, languages = (
                self.fields[name].pending_entries(instance) for name in ("specialties", "languages")
            )
            problems = instance.publication_problems(specialties=specialties, languages=languages)
            for column, message in problems.items():
                errors.setdefault(column, [ValidationError(message)])
        # A translated field's errors belong to its language columns, not to the field they stand for.
        untranslated = translator.get_options_for_model(Clinic).fields
        try:
            instance.full_clean(exclude=[*errors, *untranslated], validate_unique=validate_unique)
        except ValidationError as invalid:
            errors = invalid.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def before_save_instance(self, instance, row, **kwargs):
        instance._change_reason = change_reason(kwargs.get("file_name"))

    def after_save_instance(self, instance, row, **kwargs):
        reason = change_reason(kwargs.get("file_name"))
        for field in self.link_columns():
            entries = field.pending_entries(instance)
            if entries is not None:
                field.write(instance, entries, reason)


def change_reason(file_name):
    """What the history says of the import's changes, in the site's language (read by all staff)."""
    with translation.override(settings.LANGUAGE_CODE):
        if file_name:
            return str(_("Import of %(file)s") % {"file": file_name})
        return str(_("Import"))


# --- In the admin ---------------------------------------------------------------------------------


class ClinicImportExportMixin(ImportExportMixin):
    """Import and export of the clinic list: CSV or XLSX, every column, a preview before saving.

    Import takes adding and changing clinics, export viewing them; out of reach, the pages answer as
    if they did not exist (the staff admin site turns the refusal into a 404).
    """

    resource_classes = [ClinicResource]
    formats = [base_formats.CSV, base_formats.XLSX]
    # Every column, always: an exported file must import again as it is.
    export_form_class = ExportForm
    import_template_name = "admin/clinics/clinic/import.html"

    def has_import_permission(self, request):
        return super().has_import_permission(request) and self.has_change_permission(request)

    def process_import(self, request, **kwargs):
        # Checked before import-export's POST-only rule, so that a GET out of reach is a 404 too.
        if not self.has_import_permission(request):
            raise PermissionDenied
        return super().process_import(request, **kwargs)

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            messages.error(
                request,
                _("Nothing was imported: the file no longer passes its checks. Upload it again to see why."),
            )
            return HttpResponseRedirect(
                reverse("admin:clinics_clinic_import", current_app=self.admin_site.name)
            )
        return super().process_result(result, request)
