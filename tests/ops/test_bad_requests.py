import pytest
from rest_framework.test import APIClient


def test_a_host_that_is_not_allowed_is_400_json(api):
    response = api.get("/healthz", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request.", "code": "bad_request"}


@pytest.mark.django_db
def test_an_unknown_path_is_404_json(api):
    response = api.get("/nowhere")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/api/v1/journal/entries/not-a-uuid", "/api/v1/journal/entries/null%2Cnull", "/api/v1/x"],
)
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_an_unknown_api_path_is_404_json_in_development_too(settings, user, login, path, method):
    settings.DEBUG = True
    client = APIClient(enforce_csrf_checks=True)  # as a real client: no CSRF exemption
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(user).access}")

    response = getattr(client, method)(path)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.fixture
def staff_client(client, db):
    from accounts.models import User

    staff = User.objects.create_superuser("casey", "casey@example.com", "a-long-passphrase-42")
    client.force_login(staff)
    return client


def test_an_admin_search_for_a_nul_is_400_not_500(staff_client):
    response = staff_client.get("/admin/accounts/user/", {"q": "\x00"})
    still_searchable = staff_client.get("/admin/accounts/user/", {"q": "casey"})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The request's query string holds a NUL character.",
        "code": "invalid",
    }
    assert still_searchable.status_code == 200


@pytest.mark.django_db
def test_a_session_cookie_holding_a_nul_is_400_not_500(client):
    response = client.get("/admin/", HTTP_COOKIE="sessionid=abcdefgh\x00ijklmnop")

    assert response.status_code == 400
    assert response.json()["detail"] == "The request's cookies hold a NUL character."
