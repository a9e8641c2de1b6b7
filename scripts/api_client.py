"""The one JSON-over-HTTP client of what drives the app from outside: the demos, the
benchmarks and the tests that serve it. A request that got no HTTP answer at all (refused,
reset, timed out) is an answer too, with status 0 and its error, so that each caller decides
whether that is a figure to count or a failure to raise.

No dataclasses here: bench/copy.py runs with bench/ first on the path, where ``import copy``
(which dataclasses does) would find the benchmark itself."""

import json
import urllib.error
import urllib.request
from email.message import Message
from typing import Any, NamedTuple


class Answer(NamedTuple):
    status: int  # 0: no HTTP answer came at all
    raw: bytes
    headers: Message
    error: OSError | None = None  # why no answer came

    @property
    def body(self) -> Any:
        """The JSON of the answer, or None for an empty body or one that is not JSON (a
        proxy's error page must not hide the status)."""
        try:
            return json.loads(self.raw) if self.raw else None
        except ValueError:
            return None

    def raise_if_unanswered(self) -> "Answer":
        """This answer, or the error that stopped it raised again, for callers to whom no
        answer is a failure rather than a status."""
        if self.error is not None:
            raise self.error
        return self


def call(
    base_url: str,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float,
) -> Answer:
    """``body`` goes as JSON and ``token`` as a Bearer token; every request says it is JSON,
    as the API expects of its writes."""
    data = None if body is None else json.dumps(body).encode()
    # base_url is always the http address of the app being driven, never outside input.
    request = urllib.request.Request(f"{base_url}{path}", data=data, method=method)  # noqa: S310
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Answer(response.status, response.read(), response.headers)
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read(), error.headers)
    except OSError as error:
        return Answer(0, b"", Message(), error)
