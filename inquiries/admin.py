import logging
import re

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inquiries import tasks
from inquiries.erasures import ErasureLogError
from inquiries.exports import export_lines
from inquiries.forms import CoordinatorResponseForm, EmailCorrectionForm
from inquiries.models import PATIENT_FIELDS, Attachment, EmailStatus, Inquiry, OutgoingEmail, TimelineEntry
from inquiries.services import inquiry_anonymise, inquiry_correct_email, inquiry_respond
from staff.audit import record
from staff.decorators import redirect_to_confirmation
from staff.models import AuditAction
from staff.roles import coordinators
from staff.sessions import identity_recently_confirmed

logger = logging.getLogger(__name__)


class TimelineEntryInline(admin.TabularInline):
    model = TimelineEntry
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "kind", "is_public", "author", "old_status", "new_status", "body")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    can_delete = False
    readonly_fields = ("download", "content_type", "size", "uploaded_at")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file"))
    def download(self, attachment):
        url = reverse("staff_attachment", kwargs={"attachment_id": attachment.pk})
        return format_html('<a href="{}">{}</a>', url, attachment.original_name)


# What the patient wrote is evidence: staff read it, never edit it. The email has its own audited action.
PATIENT_WRITTEN = [*PATIENT_FIELDS, "preferred_clinics"]
REFERENCE = re.compile(r"CP-[0-9A-Z]{4}-[0-9A-Z]{4}")


@admin.register(Inquiry)
class InquiryAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "status",
        "created_at",
        "condition",
        "country_name",
        "language",
        "assigned_to",
        "deletion_requested_at",
    ]
    # Received today, in the past week, month or year: fixed choices. A date hierarchy would read the
    # distinct dates of every inquiry on each page.
    list_filter = [
        "status",
        "language",
        "condition",
        "created_at",
        ("deletion_requested_at", admin.EmptyFieldListFilter),
    ]
    list_select_related = ["condition", "assigned_to"]
    # Searched by get_search_results, each kind of term through an index.
    search_fields = ["reference", "email", "full_name"]
    search_help_text = _("A reference (CP-…), an email address, or words of the name.")
    # Counting every inquiry again on each page is a scan of the whole table.
    show_full_result_count = False
    # Rendering the rows is most of a page's time: 50 keep it well under the 150 ms of the inbox target.
    list_per_page = 50
    inlines = [AttachmentInline, TimelineEntryInline]
    actions = ["export_csv", "erase_personal_data"]
    fields = [
        "reference",
        "status",
        "assigned_to",
        *PATIENT_WRITTEN,
        "created_at",
        "closed_at",
        "consent_health_data_at",
        "consent_health_data_text",
        "consent_health_data_version",
        "consent_news",
        "deletion_requested_at",
        "anonymised_at",
    ]
    change_form_template = "admin/inquiries/inquiry/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    # The country's own name: the admin's display of a field with choices reads all 250 of them per row.
    @admin.display(description=Inquiry._meta.get_field("country").verbose_name, ordering="country")
    def country_name(self, inquiry):
        return inquiry.country.name

    def get_search_results(self, request, queryset, search_term):
        """A reference exactly, an address whatever its case, or else the words of the name, reference
        and email in the normalized search text (the workspace's search; a trigram index on PostgreSQL):
        never a substring search of each column, which reads the whole table."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if REFERENCE.fullmatch(term.upper()):
            return queryset.filter(reference=term.upper()), False
        if "@" in term and " " not in term:
            return queryset.filter(email__iexact=term), False
        return queryset.search(term), False

    def get_readonly_fields(self, request, obj=None):
        editable = {"assigned_to"} if request.user.has_perm("inquiries.assign_inquiry") else set()
        return [field for field in self.fields if field not in editable]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assigned_to":
            kwargs["queryset"] = coordinators()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def changelist_view(self, request, extra_context=None):
        action = request.POST.get("action")
        if request.method == "POST" and action and action not in self.get_actions(request):
            raise Http404  # an action this user may not run does not exist for them
        return super().changelist_view(request, extra_context)

    def has_export_permission(self, request):
        return request.user.has_perm("inquiries.export_inquiry")

    def has_erase_permission(self, request):
        return request.user.has_perm("inquiries.erase_inquiry")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            # The id in the URL is admin-quoted: the audit names the object the page showed.
            record(AuditAction.VIEW, request=request, obj=self.get_object(request, unquote(object_id)))
        return response

    def save_model(self, request, obj, form, change):
        before = Inquiry.objects.filter(pk=obj.pk).values_list("assigned_to__username", flat=True).first()
        super().save_model(request, obj, form, change)
        after = obj.assigned_to.get_username() if obj.assigned_to else None
        if before != after:
            record(AuditAction.ASSIGN, request=request, obj=obj, changes={"assigned_to": [before, after]})

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/respond/",
                self.admin_site.admin_view(self.respond_view),
                name="inquiries_inquiry_respond",
            ),
            path(
                "<path:object_id>/correct-email/",
                self.admin_site.admin_view(self.correct_email_view),
                name="inquiries_inquiry_correct_email",
            ),
        ]
        return [*own, *super().get_urls()]

    def _reachable(self, request, object_id, *permissions):
        inquiry = self.get_object(request, unquote(object_id))
        if inquiry is None or inquiry.anonymised_at or not all(request.user.has_perm(p) for p in permissions):
            raise Http404
        return inquiry

    def respond_view(self, request, object_id):
        inquiry = self._reachable(request, object_id, "inquiries.change_inquiry")
        form = CoordinatorResponseForm(request.POST or None, inquiry=inquiry)
        if request.method == "POST" and form.is_valid():
            old_status = inquiry.status
            public = form.cleaned_data["visibility"] == "public"
            inquiry_respond(
                inquiry=inquiry,
                by=request.user,
                message=form.cleaned_data["message"],
                public=public,
                to=form.cleaned_data["status"],
                closing_reason=form.cleaned_data["closing_reason"],
            )
            if inquiry.status != old_status:
                record(
                    AuditAction.STATUS,
                    request=request,
                    obj=inquiry,
                    changes={"status": [old_status, inquiry.status]},
                )
            if form.cleaned_data["message"]:
                record(
                    AuditAction.MESSAGE, request=request, obj=inquiry, note="public" if public else "internal"
                )
            self.message_user(request, _("Saved."), messages.SUCCESS)
            return redirect("admin:inquiries_inquiry_change", inquiry.pk)
        return self._page(request, "respond", inquiry, form, _("Respond to %(reference)s"))

    def correct_email_view(self, request, object_id):
        # Whoever may redirect the patient's email could have a new private link sent there: it takes
        # the permission to download the records as well.
        inquiry = self._reachable(
            request, object_id, "inquiries.correct_patient_email", "inquiries.download_attachment"
        )
        if not identity_recently_confirmed(request):
            return redirect_to_confirmation(request, request.get_full_path())
        form = EmailCorrectionForm(request.POST or None, inquiry=inquiry)
        if request.method == "POST" and form.is_valid():
            old_email = inquiry.email
            inquiry_correct_email(
                inquiry=inquiry,
                new_email=form.cleaned_data["email"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
            record(
                AuditAction.EMAIL_CORRECTED,
                request=request,
                obj=inquiry,
                changes={"email": [old_email, inquiry.email]},
                note=form.cleaned_data["reason"],
            )
            self.message_user(request, _("Email corrected. The old address has been told."), messages.SUCCESS)
            return redirect("admin:inquiries_inquiry_change", inquiry.pk)
        return self._page(request, "correct_email", inquiry, form, _("Correct the email of %(reference)s"))

    def _page(self, request, template, inquiry, form, title):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "inquiry": inquiry,
            "form": form,
            "title": title % {"reference": inquiry.reference},
        }
        return TemplateResponse(request, f"admin/inquiries/inquiry/{template}.html", context)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # erase personal data instead: the statistics stay

    @admin.action(
        description=_("Export the selected inquiries (CSV, without health data)"), permissions=["export"]
    )
    def export_csv(self, request, queryset):
        inquiries = list(
            queryset.select_related("condition", "assigned_to").prefetch_related("preferred_clinics")
        )
        response = HttpResponse(export_lines(inquiries), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="inquiries.csv"'
        response["Cache-Control"] = "no-store, private"
        record(
            AuditAction.EXPORT,
            request=request,
            changes={"references": [inquiry.reference for inquiry in inquiries]},
            note=f"{len(inquiries)} inquiries",
        )
        return response

    @admin.action(description=_("Erase personal data (confirms a deletion request)"), permissions=["erase"])
    def erase_personal_data(self, request, queryset):
        if not identity_recently_confirmed(request):
            self.message_user(
                request, _("Confirm it is you, then choose the action again."), messages.WARNING
            )
            return redirect_to_confirmation(request, request.get_full_path())
        count = 0
        for inquiry in queryset.filter(anonymised_at__isnull=True):
            try:
                inquiry_anonymise(inquiry=inquiry, by=request.user)
            except ErasureLogError:
                logger.exception("Erasure stopped: the erasure log cannot be written")
                self.message_user(
                    request,
                    _(
                        "The erasure log cannot be written, so %(reference)s and the inquiries after it were "
                        "not erased. Nothing is lost; ask the operators to fix the log, then erase again."
                    )
                    % {"reference": inquiry.reference},
                    messages.ERROR,
                )
                break
            record(AuditAction.ERASE, request=request, obj=inquiry)
            count += 1
        self.message_user(
            request,
            ngettext(
                "Personal data erased from %(count)d inquiry.",
                "Personal data erased from %(count)d inquiries.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    """Read-only: emails are written by the site. Failed ones can be sent again."""

    list_display = ["created_at", "kind", "to", "status", "failure", "attempts", "last_error", "sent_at"]
    list_filter = ["status", "failure", "kind"]
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = [
        "inquiry",
        "kind",
        "to",
        "subject",
        "message_id",
        "status",
        "failure",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "retry_until",
        "sent_at",
        "failed_at",
        "lag_alerted_at",
        "failure_alerted_at",
    ]
    exclude = ["body", "lease_until"]
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Send the selected failed emails again"), permissions=["change"])
    def send_again(self, request, queryset):
        failed = list(queryset.filter(status=EmailStatus.FAILED).exclude(to__endswith="@invalid"))
        tasks.send_again([email.pk for email in failed])
        for email in failed:
            record(AuditAction.CHANGE, request=request, obj=email)
        skipped = len(queryset) - len(failed)
        self.message_user(
            request,
            ngettext("%(count)d email queued again.", "%(count)d emails queued again.", len(failed))
            % {"count": len(failed)},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d email was not failed (or its inquiry was erased) and was left alone.",
                    "%(count)d emails were not failed (or their inquiries were erased) and were left alone.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
