from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from subscriptions import selectors, services
from subscriptions.exceptions import MalformedEvent
from subscriptions.serializers import subscription_summary_data
from subscriptions.webhook import SIGNATURE_HEADER, parse_event, verify_signature


class SubscriptionView(APIView):
    def get(self, request):
        return Response(
            subscription_summary_data(
                active=selectors.get_active_subscription_for_user(user=request.user),
                latest=selectors.get_latest_subscription_for_user(user=request.user),
            )
        )


class WebhookView(APIView):
    """The payment provider's signed events. Authenticated by the signature alone; the body
    is never parsed by DRF, because the signature covers its exact bytes."""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = []

    def post(self, request):
        try:
            body = request.body
        except RequestDataTooBig:
            raise MalformedEvent("Webhook body is too large.") from None
        verify_signature(
            header=request.headers.get(SIGNATURE_HEADER),
            body=body,
            secrets=settings.SUBSCRIPTION_WEBHOOK_SECRETS,
        )
        outcome = services.process_webhook_event(event=parse_event(body))
        return Response({"status": outcome})
