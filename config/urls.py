from django.contrib import admin
from django.urls import include, path

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("tokens.urls")),
    path("", include("journal.urls")),
    path("", include("subscriptions.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
]

handler404 = "config.exceptions.not_found"
handler500 = "config.exceptions.server_error"
