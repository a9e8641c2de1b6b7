from rest_framework import authentication, exceptions

from ops.pinning import identify_reader
from tokens.access import InvalidAccessToken, decode_access_token
from tokens.selectors import find_user_of_access_token


class AccessTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <access token>``; ``request.auth`` is the token's claims. The
    token's session must still be live: however a session ends, its access tokens are refused
    from the next request on."""

    keyword = "Bearer"

    def authenticate(self, request):
        try:
            header = authentication.get_authorization_header(request).split()
        except UnicodeEncodeError:  # text past latin-1: no WSGI server sends it, no token has it
            raise exceptions.AuthenticationFailed("Authorization header is invalid.") from None
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
        # Before the session is read: a user who just wrote (or signed in) reads from the
        # primary, where that session surely is.
        identify_reader(claims.user_id)
        found = find_user_of_access_token(claims=claims)
        if found is None:
            raise exceptions.AuthenticationFailed("The session of this access token has ended.")
        if found.access_revoked:
            raise exceptions.AuthenticationFailed("Access token has been revoked.")
        user = found.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed("Account not found or disabled.")
        return user, claims

    def authenticate_header(self, request):
        return self.keyword
