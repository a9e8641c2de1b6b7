from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ops.exceptions import not_found
from ops.health import HealthView, ReadinessView
from ops.metrics import metrics_view

api_v1: list[URLPattern | URLResolver] = [
    path("", include("accounts.urls")),
    path("", include("tokens.urls")),
    path("", include("journal.urls")),
    path("", include("subscriptions.urls")),
    # Any other path under /api/v1/ (an entry id that is not a UUID, say) is the API's JSON
    # 404 in development too: with DEBUG on, Django would answer its HTML page instead.
    # No CSRF check (the API's views have none): a DELETE there is a 404 too, not a 403 page.
    re_path(r"^.*$", csrf_exempt(not_found), name="api-not-found"),
]

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("healthz", HealthView.as_view(), name="healthz"),
    path("readyz", ReadinessView.as_view(), name="readyz"),
    path("metrics", metrics_view, name="metrics"),
]

handler400 = "ops.exceptions.bad_request"
handler403 = "ops.exceptions.permission_denied"
handler404 = "ops.exceptions.not_found"
handler500 = "ops.exceptions.server_error"
