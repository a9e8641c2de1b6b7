"""Schemathesis hooks for ``test_schema_all_checks`` (loaded through ``SCHEMATHESIS_HOOKS``).

One narrow exception to the ``positive_data_acceptance`` check. The request bodies' schemas
allow fields they do not declare, with any JSON value, and the server ignores such fields;
but it reads every value of a body within the limits of ``ops.parsers`` (no integer past 64
bits, no NUL in any text, keys included), and refuses the whole body with 400 otherwise, as
the contract says of any body it cannot read. OpenAPI 3.0 cannot express those limits for
undeclared fields (there is no ``propertyNames``), so the schema says them in each request
body's description, and a 400 to a generated body that breaks them is not a schema-valid
request rejected.

And one more: the generator gives several operations the same ``Idempotency-Key``, which the
server answers 422 ``idempotency_key_reused`` (the contract: a key belongs to one request; a
client makes a fresh one per request, which no schema can say). Every other failure stands.
"""

import os

import django
import schemathesis
from schemathesis.core import NOT_SET

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from ops.parsers import UnreadableJSON, check_json_value  # noqa: E402

POSITIVE_DATA_REJECTED = "ST202"
KEY_REUSED = "idempotency_key_reused"


def _unreadable(body) -> bool:
    try:
        check_json_value(body)
    except UnreadableJSON:
        return True
    return False


def _key_reused(response) -> bool:
    try:
        return response.status_code == 422 and response.json()["code"] == KEY_REUSED
    except (ValueError, KeyError, TypeError):
        return False


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    if failure.code != POSITIVE_DATA_REJECTED:
        return True
    unreadable = response.status_code == 400 and case.body is not NOT_SET
    return not ((unreadable and _unreadable(case.body)) or _key_reused(response))
