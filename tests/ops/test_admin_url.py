import importlib

import pytest
from django.test import Client
from django.urls import clear_url_caches

import config.urls
from accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_at(settings):
    """Serve the admin at another path, as ``ADMIN_URL`` does at start-up."""

    def _move(prefix):
        settings.ADMIN_URL = prefix
        importlib.reload(config.urls)
        clear_url_caches()

    yield _move
    settings.ADMIN_URL = "admin/"
    importlib.reload(config.urls)
    clear_url_caches()


def staff_member(**flags):
    return User.objects.create_user("morgan", "morgan@example.com", "a-long-password-1", **flags)


def test_admin_asks_anonymous_visitors_to_sign_in(client):
    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_admin_refuses_an_account_that_is_not_staff(client):
    staff_member(is_staff=False)

    client.login(username="morgan", password="a-long-password-1")
    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_admin_login_form_refuses_an_account_that_is_not_staff(client):
    staff_member(is_staff=False)

    response = client.post("/admin/login/", {"username": "morgan", "password": "a-long-password-1"})

    assert response.status_code == 200
    assert "staff account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_lets_staff_in(client):
    staff_member(is_staff=True)

    client.login(username="morgan", password="a-long-password-1")

    assert client.get("/admin/").status_code == 200


def test_admin_url_is_configurable_and_the_default_path_is_gone(admin_at):
    admin_at("back-office/")
    client = Client()

    moved = client.get("/back-office/")
    old = client.get("/admin/")

    assert moved.status_code == 302
    assert moved["Location"].startswith("/back-office/login/")
    assert old.status_code == 404
    assert old.json()["code"] == "not_found"
