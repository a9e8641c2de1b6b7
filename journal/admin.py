from django.contrib import admin

from journal.models import JournalEntry


@admin.register(JournalEntry)
class JournalEntryAdmin(admin.ModelAdmin):
    """Staff see sizes and dates in the list; an entry's content only on its own page."""

    list_display = ("id", "user", "size_bytes", "created_at", "updated_at")
    list_select_related = ("user",)
    search_fields = ("id", "user__email", "user__provider_subject")
    list_filter = ("created_at",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    fields = ("id", "user", "size_bytes", "created_at", "updated_at", "content")
    readonly_fields = fields
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
