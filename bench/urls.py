"""URLs of bench/api.py (bench.settings): the app's own (config.urls, its error handlers
too), plus the benchmark's bare views at /bench/bare/ and the DRF + simplejwt peer at
/bench/peer/."""

from django.urls import include, path

from config.urls import handler400, handler403, handler404, handler500
from config.urls import urlpatterns as app_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]

urlpatterns = [
    *app_urlpatterns,
    path("bench/bare/", include("bench.bare_urls")),
    path("bench/peer/", include("bench.peer_urls")),
]
