"""The domain's errors (``ops.errors``) as the API answers them: each kind's status from one
table, the body every error has, ``Retry-After`` when the error knows it."""

import pytest
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts.exceptions import AccountDeleted
from idempotency.exceptions import IdempotencyKeyInUse
from journal.exceptions import EntryNotFound, EntryTooLarge, QuotaExceeded
from ops import errors
from ops.exceptions import STATUS_OF_KIND, api_exception_handler
from tokens.authentication import AccessTokenAuthentication
from tokens.exceptions import UnknownProvider


def answer(error, view=None):
    request = APIRequestFactory().get("/")
    return api_exception_handler(error, {"view": view or APIView(), "request": request})


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (QuotaExceeded("This would use 11 bytes of a 10-byte quota."), 403, "quota_exceeded"),
        (EntryTooLarge(), 413, "entry_too_large"),
        (EntryNotFound(), 404, "entry_not_found"),
        (IdempotencyKeyInUse(), 409, "idempotency_key_in_use"),
    ],
)
def test_each_kind_answers_its_status_with_the_one_error_body(error, status, code):
    response = answer(error)

    assert response.status_code == status
    assert response.data == {"detail": error.message, "code": code}


def test_every_kind_has_a_status():
    kinds = [
        k for k in vars(errors).values() if isinstance(k, type) and k is not errors.DomainError
    ]
    kinds = [k for k in kinds if issubclass(k, errors.DomainError)]

    assert kinds and sorted(k.__name__ for k in kinds) == sorted(k.__name__ for k in STATUS_OF_KIND)


def test_an_error_that_knows_when_to_retry_says_it():
    assert answer(IdempotencyKeyInUse())["Retry-After"] == "1"


def test_an_invalid_request_is_answered_400_with_its_code_and_message():
    response = answer(UnknownProvider("unknown provider 'myspace'"))

    assert response.status_code == 400
    assert response.data == {"detail": "unknown provider 'myspace'", "code": "unknown_provider"}


def test_a_401_names_the_scheme_of_the_views_authentication():
    class Authenticated(APIView):
        authentication_classes = [AccessTokenAuthentication]

    response = answer(AccountDeleted(), view=Authenticated())

    assert (response.status_code, response.data["code"]) == (401, "account_deleted")
    assert response["WWW-Authenticate"].startswith("Bearer")
