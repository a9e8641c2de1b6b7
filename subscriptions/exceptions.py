from ops.errors import Invalid, Unauthenticated, Unavailable


class InvalidSignature(Unauthenticated):
    code = "invalid_signature"
    message = "Webhook signature is invalid."


class MalformedEvent(Invalid):
    code = "malformed_event"
    message = "Webhook event is malformed."


class WebhookNotConfigured(Unavailable):
    code = "webhook_not_configured"
    message = "The subscription webhook is not configured."
