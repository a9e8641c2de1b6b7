from rest_framework import exceptions


class InvalidRefreshToken(exceptions.AuthenticationFailed):
    default_detail = "Refresh token is invalid."
    default_code = "invalid_refresh_token"


class SessionNotFound(exceptions.NotFound):
    default_detail = "No such session."
    default_code = "session_not_found"
