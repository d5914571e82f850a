from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from inquiries.forms import CoordinatorResponseForm
from inquiries.models import Attachment, Inquiry, OutgoingEmail, TimelineEntry
from inquiries.services import inquiry_anonymise, inquiry_respond


class TimelineEntryInline(admin.TabularInline):
    model = TimelineEntry
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "is_public", "author", "old_status", "new_status", "body"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    can_delete = False
    fields = ["download", "content_type", "size", "uploaded_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file"))
    def download(self, attachment):
        url = reverse("staff_attachment", kwargs={"attachment_id": attachment.pk})
        return format_html('<a href="{}">{}</a>', url, attachment.original_name)


@admin.register(Inquiry)
class InquiryAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "status",
        "created_at",
        "condition",
        "country",
        "language",
        "deletion_requested_at",
    ]
    list_filter = ["status", "language", "condition", ("deletion_requested_at", admin.EmptyFieldListFilter)]
    search_fields = ["reference", "email", "full_name"]
    date_hierarchy = "created_at"
    inlines = [AttachmentInline, TimelineEntryInline]
    actions = ["erase_personal_data"]
    readonly_fields = [
        "reference",
        "status",
        "created_at",
        "closed_at",
        "consent_health_data_at",
        "consent_health_data_text",
        "consent_health_data_version",
        "consent_news",
        "deletion_requested_at",
        "anonymised_at",
    ]
    exclude = ["submission_key", "follow_up_token_hash"]
    autocomplete_fields = ["preferred_clinics", "assigned_to"]
    change_form_template = "admin/inquiries/inquiry/change_form.html"

    def get_urls(self):
        respond = path(
            "<path:object_id>/respond/",
            self.admin_site.admin_view(self.respond_view),
            name="inquiries_inquiry_respond",
        )
        return [respond, *super().get_urls()]

    def respond_view(self, request, object_id):
        inquiry = self.get_object(request, object_id)
        if inquiry is None or inquiry.anonymised_at or not self.has_change_permission(request, inquiry):
            raise Http404
        form = CoordinatorResponseForm(request.POST or None, inquiry=inquiry)
        if request.method == "POST" and form.is_valid():
            inquiry_respond(
                inquiry=inquiry,
                by=request.user,
                message=form.cleaned_data["message"],
                public=form.cleaned_data["visibility"] == "public",
                to=form.cleaned_data["status"],
            )
            self.message_user(request, _("Saved."), messages.SUCCESS)
            return redirect("admin:inquiries_inquiry_change", inquiry.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "inquiry": inquiry,
            "form": form,
            "title": _("Respond to %(reference)s") % {"reference": inquiry.reference},
        }
        return TemplateResponse(request, "admin/inquiries/inquiry/respond.html", context)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # erase personal data instead: the statistics stay

    @admin.action(description=_("Erase personal data (confirms a deletion request)"), permissions=["change"])
    def erase_personal_data(self, request, queryset):
        count = 0
        for inquiry in queryset.filter(anonymised_at__isnull=True):
            inquiry_anonymise(inquiry=inquiry, by=request.user)
            count += 1
        self.message_user(
            request, _("Personal data erased from %(count)d inquiries.") % {"count": count}, messages.SUCCESS
        )


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "to", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind"]
    readonly_fields = [
        "inquiry",
        "kind",
        "to",
        "subject",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    ]
    exclude = ["body"]

    def has_add_permission(self, request):
        return False
