import pytest


@pytest.fixture
def keyed(auth_api):
    """``keyed(method, path, key, body=None)``: a request of ``auth_api`` with that
    ``Idempotency-Key``."""

    def _keyed(method, path, key, body=None):
        send = getattr(auth_api, method.lower())
        return send(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)

    return _keyed
