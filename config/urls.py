from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.health import HealthView, ReadinessView
from config.metrics import metrics_view

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("tokens.urls")),
    path("", include("journal.urls")),
    path("", include("subscriptions.urls")),
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
# bench/api.py's ceiling: bare views beside the API, only when BENCH_BARE_VIEWS=1.
if settings.BENCH_BARE_VIEWS:
    urlpatterns.append(path("bench/bare/", include("bench.bare_urls")))

handler400 = "config.exceptions.bad_request"
handler403 = "config.exceptions.permission_denied"
handler404 = "config.exceptions.not_found"
handler500 = "config.exceptions.server_error"
