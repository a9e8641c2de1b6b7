from rest_framework import exceptions, status

from ops.exceptions import ServiceUnavailable


class InvalidSignature(exceptions.APIException):
    # Not AuthenticationFailed: DRF turns that into 403 on views without authentication.
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Webhook signature is invalid."
    default_code = "invalid_signature"


class MalformedEvent(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Webhook event is malformed."
    default_code = "malformed_event"


class WebhookNotConfigured(ServiceUnavailable):
    default_detail = "The subscription webhook is not configured."
    default_code = "webhook_not_configured"
