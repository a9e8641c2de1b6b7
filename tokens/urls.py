from django.urls import path

from tokens import api

urlpatterns = [
    path("auth/login", api.LoginView.as_view(), name="auth-login"),
    path("auth/refresh", api.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", api.LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all", api.LogoutAllView.as_view(), name="auth-logout-all"),
    path("sessions", api.SessionListView.as_view(), name="sessions"),
    path("sessions/<uuid:session_id>", api.SessionDetailView.as_view(), name="session-detail"),
]
