from ops.errors import Invalid, NotFound, Unauthenticated, Unavailable


class SignInRefused(Unauthenticated):
    code = "sign_in_refused"
    message = "Sign-in refused."


class UnknownProvider(Invalid):
    """A provider sign-in does not know (the login serializer refuses these first, naming the
    field, from the same settings)."""

    code = "unknown_provider"


class ProviderUnavailable(Unavailable):
    """The identity provider's keys cannot be fetched now."""


class InvalidRefreshToken(Unauthenticated):
    code = "invalid_refresh_token"
    message = "Refresh token is invalid."


class SessionNotFound(NotFound):
    code = "session_not_found"
    message = "No such session."
