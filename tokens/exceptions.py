from rest_framework import exceptions, status


class SignInRefused(exceptions.APIException):
    # Not AuthenticationFailed: DRF turns that into 403 on views without authentication.
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Sign-in refused."
    default_code = "sign_in_refused"


class InvalidRefreshToken(exceptions.APIException):
    # Not AuthenticationFailed: DRF turns that into 403 on views without authentication.
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Refresh token is invalid."
    default_code = "invalid_refresh_token"


class SessionNotFound(exceptions.NotFound):
    default_detail = "No such session."
    default_code = "session_not_found"
