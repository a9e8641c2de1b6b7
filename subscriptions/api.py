from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from ops.openapi import RETRY_AFTER, THROTTLED, UNAUTHORIZED, error
from ops.views import PublicAPIView
from subscriptions import selectors, services
from subscriptions.exceptions import MalformedEvent
from subscriptions.serializers import (
    SubscriptionSummarySerializer,
    WebhookEventSerializer,
    WebhookResultSerializer,
)
from subscriptions.webhook import SIGNATURE_HEADER, parse_event, verify_signature


class SubscriptionView(APIView):
    @extend_schema(
        operation_id="subscription",
        tags=["subscriptions"],
        summary="The user's subscription state",
        responses={200: SubscriptionSummarySerializer, 401: UNAUTHORIZED},
    )
    def get(self, request):
        summary = {
            "active": selectors.get_active_subscription_for_user(user=request.user),
            "latest": selectors.get_latest_subscription_for_user(user=request.user),
        }
        return Response(SubscriptionSummarySerializer(summary).data)


class WebhookView(PublicAPIView):
    """The payment provider's signed events. Authenticated by the signature alone; the body
    is never parsed by DRF, because the signature covers its exact bytes."""

    parser_classes = []
    throttle_scope = "webhook"

    @extend_schema(
        operation_id="subscription_webhook",
        tags=["subscriptions"],
        summary="A signed event from the payment provider",
        description="Signed with `X-Webhook-Signature: t=<unix seconds>,v1=<hex "
        'HMAC-SHA256(secret, "<t>.<raw body>")>`; a signature older than 300 s is stale. The '
        "same event id twice is a `duplicate`; an unknown user is `ignored`.",
        request={"application/json": WebhookEventSerializer},
        parameters=[
            OpenApiParameter(
                SIGNATURE_HEADER,
                str,
                location=OpenApiParameter.HEADER,
                required=True,
                description="`t=<unix seconds>,v1=<hex HMAC-SHA256>` (several `v1` allowed).",
            ),
            RETRY_AFTER,
        ],
        responses={
            200: WebhookResultSerializer,
            400: error("The body is not a valid event (`malformed_event`)."),
            401: error(
                "The signature is missing, malformed, wrong or stale (`missing_signature`, "
                "`malformed_signature`, `invalid_signature`, `stale_signature`)."
            ),
            429: THROTTLED,
            503: error("No webhook secret is configured (`webhook_not_configured`)."),
        },
    )
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
        return Response(WebhookResultSerializer({"status": outcome}).data)
