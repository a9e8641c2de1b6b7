import re

import pytest
from rest_framework.test import APIClient

from tests.tokens.queries import find_valid_refresh_token
from tokens.exceptions import InvalidRefreshToken
from tokens.models import RefreshToken, RevokedJti, Session
from tokens.services import rotate_refresh_token

pytestmark = pytest.mark.django_db


def test_refresh_token_pages_never_show_the_hash(admin_client, user, login):
    pair = login(user)
    token = RefreshToken.objects.get(session=pair.session)

    listing = admin_client.get("/admin/tokens/refreshtoken/")
    detail = admin_client.get(f"/admin/tokens/refreshtoken/{token.pk}/change/")

    assert listing.status_code == 200 and detail.status_code == 200
    for page in (listing, detail):
        html = page.content.decode()
        assert token.token_hash not in html
        assert pair.refresh not in html
    assert str(pair.session.pk) in listing.content.decode()


def test_staff_revoke_the_session_of_a_refresh_token(admin_client, user, login):
    pair = login(user)
    token = RefreshToken.objects.get(session=pair.session)

    response = admin_client.post(
        "/admin/tokens/refreshtoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "Revoked 1 session(s)." in response.content.decode()
    assert find_valid_refresh_token(raw_token=pair.refresh) is None


def test_staff_revoke_sessions_from_the_session_list(admin_client, user, other_user, login):
    mine, theirs = login(user), login(other_user)

    admin_client.post(
        "/admin/tokens/session/", {"action": "revoke", "_selected_action": [mine.session.pk]}
    )

    assert Session.objects.get(pk=mine.session.pk).revoked_at is not None
    assert Session.objects.get(pk=theirs.session.pk).revoked_at is None


def test_session_admin_lists_and_searches_by_email(admin_client, user, other_user, login):
    mine, theirs = login(user), login(other_user)

    response = admin_client.get("/admin/tokens/session/", {"q": "alice@example.com"})

    html = response.content.decode()
    assert str(mine.session.pk) in html
    assert str(theirs.session.pk) not in html
    assert admin_client.get(f"/admin/tokens/session/{mine.session.pk}/change/").status_code == 200


def test_revoked_jti_admin_lists_the_pair_a_retry_replaced(admin_client, user, login, settings):
    settings.REFRESH_TOKEN_RETRY_GRACE_SECONDS = 30
    pair = login(user)
    rotate_refresh_token(raw_token=pair.refresh)  # its answer is lost
    rotate_refresh_token(raw_token=pair.refresh)  # the retry

    response = admin_client.get("/admin/tokens/revokedjti/")

    assert response.status_code == 200
    assert "1 revoked JTI" in response.content.decode()


def test_tokens_cannot_be_added_by_hand(admin_client):
    assert admin_client.get("/admin/tokens/refreshtoken/add/").status_code == 403
    assert admin_client.get("/admin/tokens/session/add/").status_code == 403


def test_a_revoked_jti_cannot_be_deleted_to_bring_its_access_token_back(
    admin_client, user, login, settings
):
    settings.REFRESH_TOKEN_RETRY_GRACE_SECONDS = 30
    pair = login(user)
    lost = rotate_refresh_token(raw_token=pair.refresh)  # its answer is lost
    rotate_refresh_token(raw_token=pair.refresh)  # the retry: the lost pair dies
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {lost.access}")
    assert client.get("/api/v1/me").status_code == 401
    revoked = RevokedJti.objects.get()

    page = admin_client.get(f"/admin/tokens/revokedjti/{revoked.pk}/delete/")
    post = admin_client.post(f"/admin/tokens/revokedjti/{revoked.pk}/delete/", {"post": "yes"})
    bulk = admin_client.post(
        "/admin/tokens/revokedjti/",
        {"action": "delete_selected", "_selected_action": [revoked.pk], "post": "yes"},
    )

    assert (page.status_code, post.status_code) == (403, 403)
    assert bulk.status_code == 200  # the changelist again: no such action
    assert RevokedJti.objects.filter(pk=revoked.pk).exists()
    assert client.get("/api/v1/me").status_code == 401


def test_a_rotated_refresh_token_cannot_be_deleted_so_its_reuse_still_revokes(
    admin_client, user, login
):
    pair = login(user)
    rotate_refresh_token(raw_token=pair.refresh)
    rotated = RefreshToken.objects.get(session=pair.session, rotated_at__isnull=False)

    post = admin_client.post(f"/admin/tokens/refreshtoken/{rotated.pk}/delete/", {"post": "yes"})
    admin_client.post(
        "/admin/tokens/refreshtoken/",
        {"action": "delete_selected", "_selected_action": [rotated.pk], "post": "yes"},
    )

    assert post.status_code == 403
    assert RefreshToken.objects.filter(pk=rotated.pk).exists()
    with pytest.raises(InvalidRefreshToken):
        rotate_refresh_token(raw_token=pair.refresh)
    assert Session.objects.get(pk=pair.session.pk).revoked_at is not None


def test_sessions_are_ended_by_the_revoke_action_not_deleted(admin_client, user, login):
    pair = login(user)

    listing = admin_client.get("/admin/tokens/session/").content.decode()
    post = admin_client.post(f"/admin/tokens/session/{pair.session.pk}/delete/", {"post": "yes"})

    assert 'value="revoke"' in listing
    assert 'value="delete_selected"' not in listing
    assert post.status_code == 403
    assert Session.objects.filter(pk=pair.session.pk).exists()


def test_revoking_a_session_in_the_admin_ends_its_access_tokens(admin_client, user, login):
    pair = login(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    assert client.get("/api/v1/me").status_code == 200

    admin_client.post(
        "/admin/tokens/session/", {"action": "revoke", "_selected_action": [pair.session.pk]}
    )

    assert client.get("/api/v1/me").status_code == 401


def test_a_session_page_shows_its_current_token_and_counts_the_rotated_ones(
    admin_client, user, login
):
    pair = login(user)
    raw = pair.refresh
    for _ in range(5):
        raw = rotate_refresh_token(raw_token=raw).refresh
    current = RefreshToken.objects.get(session=pair.session, rotated_at__isnull=True)
    rotated_ids = RefreshToken.objects.filter(session=pair.session, rotated_at__isnull=False)

    html = admin_client.get(f"/admin/tokens/session/{pair.session.pk}/change/").content.decode()

    assert f"#{current.pk}," in html
    assert re.search(r'Rotated refresh tokens:</label>\s*<div class="readonly">5</div>', html)
    assert not any(f"#{t.pk}," in html for t in rotated_ids)
