from rest_framework import authentication, exceptions

from accounts.selectors import get_user_by_id
from tokens.access import InvalidAccessToken, decode_access_token
from tokens.selectors import is_jti_revoked


class AccessTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <access token>``; ``request.auth`` is the token's claims."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'.")
        try:
            token = header[1].decode("ascii")
            claims = decode_access_token(token)
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Access token is invalid.") from None
        except InvalidAccessToken as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        if is_jti_revoked(jti=claims.jti):
            raise exceptions.AuthenticationFailed("Access token has been revoked.")
        user = get_user_by_id(user_id=claims.user_id)
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("Account not found or disabled.")
        return user, claims

    def authenticate_header(self, request):
        return self.keyword
