"""A staff member at work in the admin, in a real browser: sign in, find a user by email,
open their sessions, revoke one, look at their subscription."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import upsert_user
from subscriptions.models import Subscription, SubscriptionStatus
from tokens.services import start_session

PASSWORD = "correct horse battery staple"
REVOKE = "Revoke selected sessions (their refresh and access tokens die at once)"


@pytest.fixture
def staff():
    return User.objects.create_superuser("ops-lead", "ops@example.com", PASSWORD)


@pytest.fixture
def customer():
    """A user with two sessions (a phone and a laptop) and a premium subscription."""
    user = upsert_user(provider="google", provider_subject="carol-sub", email="carol@example.com")
    phone = start_session(user=user, fingerprint="carol's phone").session
    laptop = start_session(user=user, fingerprint="carol's laptop").session
    Subscription.objects.create(
        user=user,
        provider="stripe",
        provider_subscription_id="sub_carol_1",
        plan="premium_yearly",
        status=SubscriptionStatus.ACTIVE,
        current_period_end=timezone.now() + timedelta(days=200),
        last_event_at=timezone.now(),
    )
    # Someone else, whom the search must leave out.
    other = upsert_user(provider="apple", provider_subject="dave-sub", email="dave@example.com")
    start_session(user=other, fingerprint="dave's phone")
    return user, phone, laptop


def sign_in(browser, username, password):
    browser.open(reverse("admin:index"))
    browser.fill("#id_username", username)
    browser.fill("#id_password", password)
    browser.screenshot("sign-in")
    browser.submit("input[type=submit]")


def test_staff_revoke_a_users_session_and_see_their_subscription(browser, staff, customer):
    user, phone, laptop = customer

    sign_in(browser, "ops-lead", PASSWORD)
    assert browser.wait_for_text("Site administration", "#content h1")
    # The admin's stylesheet writes the welcome line in capitals.
    assert "welcome, ops-lead" in browser.text("#user-tools").casefold()
    browser.screenshot("signed-in")

    # Users, searched by email.
    browser.click_link("Users")
    browser.fill("#searchbar", "carol@example.com")
    browser.submit("#changelist-search input[type=submit]")
    assert browser.columns("email", "provider") == [("carol@example.com", "google")]
    browser.screenshot("user-found")

    # Her page, and from it her sessions.
    browser.click_link(str(user))
    assert "2 session(s)" in browser.wait_for_text("session(s)", ".field-sessions_link")
    browser.screenshot("user-page", showing=".field-sessions_link")
    browser.click_link("2 session(s)")
    assert sorted(browser.columns("user", "fingerprint", "state")) == [
        ("carol@example.com", "carol's laptop", "live"),
        ("carol@example.com", "carol's phone", "live"),
    ]
    browser.screenshot("sessions")

    # The laptop's session revoked with the admin action.
    browser.click(f"input[name=_selected_action][value='{laptop.pk}']")
    browser.choose("select[name=action]", REVOKE)
    browser.screenshot("revoke-chosen")
    browser.submit("button[name=index]")
    assert browser.text(".messagelist") == "Revoked 1 session(s)."
    assert sorted(browser.columns("fingerprint", "state")) == [
        ("carol's laptop", "revoked"),
        ("carol's phone", "live"),
    ]
    browser.screenshot("revoked")
    laptop.refresh_from_db()
    phone.refresh_from_db()
    assert laptop.revoked_at is not None
    assert phone.revoked_at is None

    # The revoked session's page, and from it back to her page and her subscription.
    browser.click_link(str(laptop.pk))
    assert browser.text(".field-state .readonly") == "revoked"
    browser.screenshot("revoked-session")
    browser.click_link(str(user))
    browser.click_link("1 subscription(s)")
    assert browser.columns("user", "provider", "plan", "status") == [
        ("carol@example.com", "stripe", "premium_yearly", "Active")
    ]
    browser.screenshot("subscriptions")
