import threading

import pytest
from django.db import connection

from tests.tokens.queries import find_valid_refresh_token
from tokens import services
from tokens.access import decode_access_token
from tokens.exceptions import InvalidRefreshToken
from tokens.models import RefreshToken, Session
from tokens.selectors import find_user_of_access_token

THREADS = 8


def race(target, count=THREADS):
    """Run ``target`` in ``count`` threads released at the same instant; collect outcomes."""
    barrier = threading.Barrier(count)
    outcomes = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait()
            result = target()
        except Exception as exc:  # noqa: BLE001 - every outcome is inspected below
            result = exc
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_rotations_of_one_token_have_exactly_one_winner(user, attempt):
    pair = services.start_session(user=user)

    outcomes = race(lambda: services.rotate_refresh_token(raw_token=pair.refresh))

    winners = [o for o in outcomes if isinstance(o, services.TokenPair)]
    losers = [o for o in outcomes if isinstance(o, InvalidRefreshToken)]
    assert len(winners) == 1
    assert len(losers) == THREADS - 1
    # One token was rotated into exactly one successor: the session never forks.
    assert RefreshToken.objects.filter(session=pair.session).count() == 2
    assert RefreshToken.objects.filter(session=pair.session, rotated_at__isnull=True).count() == 1
    successor_is_live = find_valid_refresh_token(raw_token=winners[0].refresh) is not None
    # A loser that arrived after the winner committed saw a reuse and revoked the session;
    # one that raced the winner's update was refused without revoking anything.
    reused = any("reused;" in o.message for o in losers)
    assert successor_is_live is not reused


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_retries_within_the_grace_leave_one_valid_pair(user, settings, attempt):
    settings.REFRESH_TOKEN_RETRY_GRACE_SECONDS = 30
    pair = services.start_session(user=user)
    services.rotate_refresh_token(raw_token=pair.refresh)  # its answer is lost

    outcomes = race(lambda: services.rotate_refresh_token(raw_token=pair.refresh))

    winners = [o for o in outcomes if isinstance(o, services.TokenPair)]
    assert winners
    assert all(isinstance(o, services.TokenPair | InvalidRefreshToken) for o in outcomes)
    # No retry was taken for theft, and exactly one of the pairs handed out is still valid.
    assert Session.objects.get(pk=pair.session.pk).revoked_at is None
    valid = [w for w in winners if find_valid_refresh_token(raw_token=w.refresh) is not None]
    assert len(valid) == 1
    live_access = [
        w
        for w in winners
        if not find_user_of_access_token(claims=decode_access_token(w.access)).access_revoked
    ]
    assert live_access == valid
    assert RefreshToken.objects.filter(session=pair.session, rotated_at__isnull=True).count() == 1
