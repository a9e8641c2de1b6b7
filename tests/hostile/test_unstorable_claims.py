"""ID token claims the databases cannot store as they are (a NUL, a lone surrogate, too long
for the column): a subject like that is a 401; a name is cleaned and an email dropped, so no
sign-in can put such text into the database."""

import pytest
from django.db import connection

from accounts.models import User
from accounts.services import upsert_user
from tokens.models import Session

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"


def login(api, idp, **claims):
    token = idp.id_token(**claims)
    return api.post(LOGIN, {"provider": "google", "id_token": token}, format="json")


@pytest.mark.parametrize(
    "subject", ["alice\x00", "\x00", "alice\ud800", "\udfff", "a\x00\ud800b", "s" * 256]
)
def test_a_subject_the_database_cannot_store_is_401(api, idp, subject):
    response = login(api, idp, sub=subject)

    assert response.status_code == 401
    assert response.json()["code"] == "sign_in_refused"
    assert isinstance(response.json()["detail"], str)
    assert not User.objects.exists()
    assert not Session.objects.exists()


def test_a_subject_of_the_column_length_signs_in(api, idp):
    response = login(api, idp, sub="s" * 255)

    assert response.status_code == 200
    assert User.objects.get().provider_subject == "s" * 255


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("Ali\x00ce", "Alice"),
        ("Alice\ud800", "Alice"),
        ("\udc80Al\x00ice\udfff", "Alice"),
        ("\x00", ""),
        ("Zoë 😀\x00", "Zoë 😀"),
    ],
)
def test_a_name_is_stored_without_the_characters_the_database_cannot_store(api, idp, name, stored):
    response = login(api, idp, sub="alice-sub", name=name)

    assert response.status_code == 200
    assert response.json()["user"]["display_name"] == stored
    assert User.objects.get().display_name == stored


def test_a_cleaned_name_is_cut_to_the_column(api, idp):
    response = login(api, idp, name="\x00" * 10 + "n" * 300)

    assert response.status_code == 200
    assert User.objects.get().display_name == "n" * 255


@pytest.mark.parametrize("email", ["alice\x00@example.com", "alice@example.com\ud800", "\x00"])
def test_an_email_the_database_cannot_store_is_not_stored(api, idp, email):
    response = login(api, idp, sub="alice-sub", email=email)

    assert response.status_code == 200
    assert response.json()["user"]["email"] == ""
    assert User.objects.get().email == ""


def test_an_unstorable_email_leaves_the_known_one_in_place(api, idp):
    upsert_user(provider="google", provider_subject="alice-sub", email="alice@example.com")

    response = login(api, idp, sub="alice-sub", email="mallory\x00@example.com")

    assert response.status_code == 200
    assert User.objects.get().email == "alice@example.com"


@pytest.mark.parametrize("value", [5, ["a@example.com"], {"a": "b"}, True, 1e300])
def test_an_email_or_name_that_is_not_a_string_is_not_stored(api, idp, value):
    response = login(api, idp, email=value, name=value)

    assert response.status_code == 200
    user = User.objects.get()
    assert (user.email, user.display_name) == ("", "")


def _cells_holding_nul(table: str, columns: list[str]) -> int:
    condition = " OR ".join(f"instr({column}, char(0)) > 0" for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} WHERE {condition}")  # noqa: S608
        return cursor.fetchone()[0]


@pytest.mark.sqlite_only
def test_no_sign_in_puts_a_nul_into_the_sqlite_database(api, idp):
    # SQLite would store a NUL, and the database could then not be copied to PostgreSQL.
    for claims in [
        {"sub": "mallory\x00"},
        {"sub": "mallory", "name": "Mal\x00lory", "email": "m\x00@example.com"},
        {"sub": "mallory", "name": "\x00", "email": "\x00"},
    ]:
        login(api, idp, **claims)

    assert User.objects.filter(provider_subject="mallory").exists()
    user_columns = ["provider", "provider_subject", "email", "display_name"]
    assert _cells_holding_nul(User._meta.db_table, user_columns) == 0
    assert _cells_holding_nul(Session._meta.db_table, ["fingerprint"]) == 0
