"""What a request that meets a failed database connection answers: 503 with Retry-After (its
transaction was rolled back, a retry is safe), whatever the driver called the failure."""

import psycopg
import psycopg.errors
from django.db import InternalError

from ops.exceptions import api_exception_handler


def as_django_raises_it(driver_error: psycopg.Error) -> InternalError:
    """The error Django raises for ``driver_error`` (``wrap_database_errors``: same class name,
    the driver's error as its cause)."""
    try:
        raise InternalError(*driver_error.args) from driver_error
    except InternalError as exc:
        return exc


def test_replies_the_driver_cannot_pair_with_its_command_answer_503():
    # Behind PgBouncer: a server connection killed as it was handed out leaves its error
    # ahead of the reply to the transaction's BEGIN.
    unpaired = psycopg.InternalError("received 2 results from command 'BEGIN'")

    response = api_exception_handler(as_django_raises_it(unpaired), context={})

    assert response.status_code == 503
    assert response.data["code"] == "database_unavailable"
    assert response["Retry-After"] == "5"


def test_a_servers_internal_error_is_not_taken_for_a_lost_connection():
    # An aborted transaction used again is the request's fault: Django's 500, not a retry.
    aborted = psycopg.errors.InFailedSqlTransaction("current transaction is aborted")

    assert aborted.sqlstate == "25P02"
    assert api_exception_handler(as_django_raises_it(aborted), context={}) is None


def test_the_drivers_other_internal_errors_stay_faults_of_the_request():
    # psycopg's own, without a SQLSTATE, but about a value it cannot send: retrying would
    # meet it again.
    undumpable = psycopg.InternalError("cannot dump lists of mixed types")

    assert undumpable.sqlstate is None
    assert api_exception_handler(as_django_raises_it(undumpable), context={}) is None
