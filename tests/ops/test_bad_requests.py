import pytest


def test_a_host_that_is_not_allowed_is_400_json(api):
    response = api.get("/healthz", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request.", "code": "bad_request"}


@pytest.mark.django_db
def test_an_unknown_path_is_404_json(api):
    response = api.get("/nowhere")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
