from django.contrib import admin
from django.db.models.constants import LOOKUP_SEP

from journal.models import JournalEntry
from journal.services import delete_journal_entries


@admin.register(JournalEntry)
class JournalEntryAdmin(admin.ModelAdmin):
    """Staff see an entry's owner, size and dates, never its content: not in the list, not on
    its page, not through a search or a filter, superusers included. Entries change only
    through the API, by their owner; staff who may delete them do it through the journal's
    service, which gives the owner's bytes back."""

    list_display = ("id", "user", "size_bytes", "created_at", "updated_at")
    list_select_related = ("user",)
    search_fields = ("id", "user__email", "user__provider_subject")
    list_filter = ("created_at",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    fields = ("id", "user", "size_bytes", "created_at", "updated_at")
    readonly_fields = fields
    show_full_result_count = False

    def lookup_allowed(self, lookup, value, request=None):
        # The admin lets a URL filter on any field: ?content__contains=... would tell which
        # entries say what.
        if lookup.split(LOOKUP_SEP)[0] == "content":
            return False
        return super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        delete_journal_entries(entry_ids=[obj.pk])

    def delete_queryset(self, request, queryset):
        delete_journal_entries(entry_ids=queryset.values_list("pk", flat=True))
