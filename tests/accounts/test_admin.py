import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from subscriptions.models import Subscription

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


def test_change_page_links_to_only_this_users_sessions_and_subscriptions(
    admin_client, user, other_user, login
):
    login(user, fingerprint="alice-phone")
    login(user, fingerprint="alice-laptop")
    login(other_user, fingerprint="bob-phone")
    for owner, sub_id in ((user, "sub_alice"), (other_user, "sub_bob")):
        Subscription.objects.create(
            user=owner,
            provider="stripe",
            provider_subscription_id=sub_id,
            plan="premium_monthly",
            status="active",
            current_period_end=timezone.now() + timedelta(days=30),
            last_event_at=timezone.now(),
        )

    page = admin_client.get(change_url(user)).content.decode()
    links = {
        text: href.replace("&amp;", "&")
        for href, text in re.findall(r'<a href="([^"]+)">(\d+ \w+\(s\))</a>', page)
    }
    sessions = admin_client.get(links["2 session(s)"]).content.decode()
    subscriptions = admin_client.get(links["1 subscription(s)"]).content.decode()

    assert "alice-phone" in sessions and "alice-laptop" in sessions
    assert "bob-phone" not in sessions
    assert "sub_alice" in subscriptions and "sub_bob" not in subscriptions


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


STAFF_PASSWORD = "a-long-Staff-passphrase-42"


@pytest.fixture
def staff_client(client, db):
    """A staff member, not a superuser, who may view and change users; ``client.staff`` is
    their account."""
    staff = User.objects.create_user("morgan", "morgan@example.com", STAFF_PASSWORD, is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="accounts",
            codename__in=["view_user", "change_user", "delete_user"],
        )
    )
    client.force_login(staff)
    client.staff = staff
    return client


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.com", "a-long-Root-passphrase-42")


def privilege_form(user, **overrides):
    """A change form that also tries to make the account a superuser with every right."""
    return change_form(
        user,
        is_staff="on",
        is_superuser="on",
        groups=[Group.objects.create(name="everything").pk],
        user_permissions=list(Permission.objects.values_list("pk", flat=True)),
        **overrides,
    )


PRIVILEGE_INPUTS = ("is_staff", "is_superuser", "groups", "user_permissions")


def editable_inputs(html):
    """The privilege fields the page lets one change (read-only ones have no input)."""
    return {name for name in PRIVILEGE_INPUTS if f'name="{name}"' in html}


def test_staff_see_their_own_rights_read_only(staff_client):
    response = staff_client.get(change_url(staff_client.staff))

    assert response.status_code == 200
    html = response.content.decode()
    assert editable_inputs(html) == set()
    assert "Superuser status" in html and "Is staff" in html


def test_staff_who_may_only_view_users_see_a_read_only_page(client, user):
    viewer = User.objects.create_user("sam", "sam@example.com", STAFF_PASSWORD, is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_user"))
    client.force_login(viewer)

    response = client.get(change_url(user))

    assert response.status_code == 200
    html = response.content.decode()
    assert "alice-sub" in html
    assert 'name="email"' not in html and editable_inputs(html) == set()


def test_staff_cannot_make_themselves_superuser_by_posting_the_fields(staff_client):
    staff = staff_client.staff

    response = staff_client.post(change_url(staff), privilege_form(staff, display_name="Morgan M."))

    assert response.status_code == 302
    stored = User.objects.get(pk=staff.pk)
    assert stored.display_name == "Morgan M."
    assert stored.is_staff and not stored.is_superuser
    assert not stored.groups.exists()
    assert set(stored.get_all_permissions()) == {
        "accounts.view_user",
        "accounts.change_user",
        "accounts.delete_user",
    }


def test_staff_cannot_make_an_app_user_staff(staff_client, user):
    response = staff_client.post(change_url(user), privilege_form(user, display_name="Alice A."))

    assert response.status_code == 302
    stored = User.objects.get(pk=user.pk)
    assert stored.display_name == "Alice A."
    assert not stored.is_staff and not stored.is_superuser
    assert not stored.groups.exists() and not stored.user_permissions.exists()


def test_staff_cannot_change_the_password_of_a_superuser(staff_client, superuser):
    response = staff_client.post(
        reverse("admin:auth_user_password_change", args=[superuser.pk]),
        {"password1": "a-new-Hijack-passphrase-9", "password2": "a-new-Hijack-passphrase-9"},
    )

    assert response.status_code == 403
    assert User.objects.get(pk=superuser.pk).check_password("a-long-Root-passphrase-42")


def test_staff_see_other_staff_accounts_read_only(staff_client, superuser):
    page = staff_client.get(change_url(superuser))
    post = staff_client.post(change_url(superuser), change_form(superuser, is_active=""))
    delete = staff_client.post(
        reverse("admin:accounts_user_delete", args=[superuser.pk]), {"post": "yes"}
    )

    assert page.status_code == 200
    assert 'name="email"' not in page.content.decode()
    assert post.status_code == 403
    assert delete.status_code == 403
    assert User.objects.get(pk=superuser.pk).is_active


def test_a_superuser_can_still_grant_staff_and_superuser_status(admin_client, user):
    page = admin_client.get(change_url(user)).content.decode()
    response = admin_client.post(change_url(user), privilege_form(user))

    assert editable_inputs(page) == set(PRIVILEGE_INPUTS)
    assert response.status_code == 302, response.context["adminform"].form.errors
    stored = User.objects.get(pk=user.pk)
    assert stored.is_staff and stored.is_superuser
    assert stored.groups.filter(name="everything").exists()
    assert stored.user_permissions.count() == Permission.objects.count()


def test_staff_cannot_give_a_group_permissions(staff_client):
    group = Group.objects.create(name="support")
    staff_client.staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_group", "change_group"])
    )
    url = reverse("admin:auth_group_change", args=[group.pk])

    page = staff_client.get(url).content.decode()
    response = staff_client.post(
        url,
        {"name": "support", "permissions": list(Permission.objects.values_list("pk", flat=True))},
    )

    assert 'name="permissions"' not in page
    assert response.status_code == 302
    assert not Group.objects.get(pk=group.pk).permissions.exists()


def test_staff_cannot_delete_a_superuser_with_the_bulk_action(staff_client, superuser, user):
    response = staff_client.post(
        CHANGELIST,
        {"action": "delete_selected", "_selected_action": [superuser.pk, user.pk], "post": "yes"},
    )

    assert response.status_code == 403
    assert User.objects.filter(pk__in=[superuser.pk, user.pk]).count() == 2


def test_staff_delete_app_users_with_the_bulk_action(staff_client, user, other_user):
    response = staff_client.post(
        CHANGELIST,
        {"action": "delete_selected", "_selected_action": [user.pk, other_user.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert not User.objects.filter(pk__in=[user.pk, other_user.pk]).exists()
