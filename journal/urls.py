from django.urls import path

from journal import api

urlpatterns = [
    path("journal/entries", api.EntryListView.as_view(), name="journal-entries"),
    path("journal/entries/<uuid:entry_id>", api.EntryDetailView.as_view(), name="journal-entry"),
    path("journal/usage", api.UsageView.as_view(), name="journal-usage"),
    path("journal/export", api.ExportView.as_view(), name="journal-export"),
]
