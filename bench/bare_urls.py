"""The bare views of bench/api.py, mounted at /bench/bare/ by bench/urls.py."""

from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from bench import bare_views

urlpatterns = [
    path("me", bare_views.me),
    path("journal/entries", csrf_exempt(bare_views.entries)),
    path("auth/refresh", csrf_exempt(bare_views.refresh)),
]
