from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_user_changelist")


def change_url(user):
    return reverse("admin:accounts_user_change", args=[user.pk])


def change_form(user, **overrides):
    """The fields a staff member posts when saving a user's change page unchanged."""
    data = {
        "username": user.username or "",
        "email": user.email,
        "display_name": user.display_name,
        "is_active": "on",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_user_changelist_loads(admin_client, user, other_user):
    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    content = response.content.decode()
    assert "alice@example.com" in content
    assert "bob@example.com" in content


def test_user_changelist_searches_by_email(admin_client, user, other_user):
    response = admin_client.get(CHANGELIST, {"q": "alice@example.com"})

    assert response.status_code == 200
    content = response.content.decode()
    assert "alice@example.com" in content
    assert "bob@example.com" not in content


def test_user_changelist_searches_by_provider_subject(admin_client, user, other_user):
    response = admin_client.get(CHANGELIST, {"q": "bob-sub"})

    assert response.status_code == 200
    content = response.content.decode()
    assert "bob@example.com" in content
    assert "alice@example.com" not in content


def test_user_changelist_filters_by_provider(admin_client, user, other_user):
    response = admin_client.get(CHANGELIST, {"provider__exact": "apple"})

    assert response.status_code == 200
    content = response.content.decode()
    assert "bob@example.com" in content
    assert "alice@example.com" not in content


def test_change_page_of_a_provider_user_loads(admin_client, user):
    response = admin_client.get(change_url(user))

    assert response.status_code == 200
    assert "alice-sub" in response.content.decode()


def test_change_page_of_a_provider_user_saves_and_keeps_username_null(admin_client, user):
    response = admin_client.post(change_url(user), change_form(user, display_name="Alice A."))

    assert response.status_code == 302, response.context["adminform"].form.errors
    stored = User.objects.get(pk=user.pk)
    assert stored.display_name == "Alice A."
    assert stored.username is None
    assert (stored.provider, stored.provider_subject) == ("google", "alice-sub")


def test_two_provider_users_without_username_are_both_editable(admin_client, user, other_user):
    first = admin_client.post(change_url(user), change_form(user, display_name="Alice"))
    second = admin_client.post(change_url(other_user), change_form(other_user, display_name="Bob"))

    assert first.status_code == 302
    assert second.status_code == 302, second.context["adminform"].form.errors
    assert User.objects.get(pk=user.pk).username is None
    assert User.objects.get(pk=other_user.pk).username is None
    assert User.objects.get(pk=other_user.pk).display_name == "Bob"


def test_change_page_cannot_edit_the_provider_identity(admin_client, user):
    data = change_form(user, provider="apple", provider_subject="hijacked")

    admin_client.post(change_url(user), data)

    stored = User.objects.get(pk=user.pk)
    assert (stored.provider, stored.provider_subject) == ("google", "alice-sub")


def test_createsuperuser_noinput_makes_a_staff_account_that_can_log_in(client, monkeypatch):
    password = "a-long-Operator-passphrase-42"
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", password)

    call_command(
        "createsuperuser",
        "--noinput",
        username="operator",
        email="ops@example.com",
        stdout=StringIO(),
    )

    staff = User.objects.get(username="operator")
    assert staff.is_staff and staff.is_superuser and staff.is_active
    assert staff.provider is None and staff.provider_subject is None
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "operator", "password": password, "next": "/admin/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_admin_login_with_a_wrong_password_is_refused(client, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-Operator-passphrase-42")
    call_command(
        "createsuperuser",
        "--noinput",
        username="operator",
        email="ops@example.com",
        stdout=StringIO(),
    )

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "operator", "password": "wrong", "next": "/admin/"},
    )

    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302
