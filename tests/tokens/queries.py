"""What the tests ask of the tokens that the app itself never needs to."""

from django.utils import timezone

from tokens.models import RefreshToken
from tokens.selectors import hash_refresh_token, session_is_live


def find_valid_refresh_token(*, raw_token: str) -> RefreshToken | None:
    """The current token with this value, of a live session (not revoked, not expired): the
    one a refresh would accept. The app itself looks a token up whatever its state
    (``tokens.selectors.find_refresh_token``), since rotation needs to see reuse."""
    return (
        RefreshToken.objects.filter(
            session_is_live(timezone.now(), via="session__"),
            token_hash=hash_refresh_token(raw_token),
            rotated_at__isnull=True,
        )
        .select_related("session__user")
        .first()
    )
