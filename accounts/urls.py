from django.urls import path

from accounts import api

urlpatterns = [
    path("auth/login", api.LoginView.as_view(), name="auth-login"),
    path("me", api.MeView.as_view(), name="me"),
]
