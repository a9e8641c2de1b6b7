from django.urls import path

from subscriptions import api

urlpatterns = [
    path("subscription", api.SubscriptionView.as_view(), name="subscription"),
    path("subscriptions/webhook", api.WebhookView.as_view(), name="subscription-webhook"),
]
