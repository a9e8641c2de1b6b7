"""The peer's endpoints of bench/api.py, mounted at /bench/peer/ by bench/urls.py."""

from django.urls import path
from rest_framework_simplejwt.views import TokenRefreshView

from bench import peer_views

urlpatterns = [
    path("me", peer_views.MeView.as_view()),
    path("journal/entries", peer_views.EntryListCreateView.as_view()),
    path("auth/refresh", TokenRefreshView.as_view()),
]
