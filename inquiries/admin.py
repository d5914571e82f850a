from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from inquiries.models import Attachment, Inquiry, OutgoingEmail, TimelineEntry
from inquiries.services import inquiry_anonymise


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
    autocomplete_fields = ["preferred_clinics"]

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
