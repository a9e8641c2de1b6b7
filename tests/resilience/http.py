"""A small HTTP client for tests that drive a live server from many threads."""

from scripts import api_client


def call(base_url, method, path, *, token=None, body=None, headers=None, timeout=60):
    """Return (status, parsed JSON or None, headers); no answer at all raises its OSError."""
    answer = api_client.call(
        base_url, method, path, token=token, body=body, headers=headers, timeout=timeout
    ).raise_if_unanswered()
    return answer.status, answer.body, answer.headers
