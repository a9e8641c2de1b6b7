"""``Idempotency-Key`` on the API's unsafe requests (CONTRACT.md, "Idempotent requests").

A view that mixes in ``IdempotentMixin`` answers a request that carries the header once:

- after authentication and permissions, before the rate limits, the key is claimed (inserted)
  in a transaction that the handler's writes then join, and its answer is recorded in it just
  before COMMIT: a lost COMMIT loses both, and the retry runs;
- a key already taken (the unique constraint) is looked up: with the same method, path and
  body its answer is sent again (``Idempotent-Replayed: true``), so a replay runs nothing and
  spends no rate; another method, path or body is 422;
- an answer of 500 or more rolls the whole transaction back: nothing is kept.

Without the header nothing changes.
"""

import hashlib
import re
from contextlib import ExitStack
from dataclasses import dataclass

from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpResponse

from idempotency import selectors, services
from idempotency.exceptions import (
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
)
from idempotency.models import IdempotencyKey
from ops.http import UNSAFE_METHODS

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"[\x20-\x7e]{1,255}")


@dataclass(frozen=True)
class Fingerprint:
    key: str
    method: str
    path: str
    body_sha256: str


class Replay(Exception):
    """The stored answer, raised from the checks so that nothing else runs."""

    def __init__(self, answer: IdempotencyKey) -> None:
        super().__init__(answer.key)
        self.answer = answer


def replayed_response(answer: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(answer.body.encode(), status=answer.status)
    if answer.body:
        response["Content-Type"] = "application/json"
    else:
        del response["Content-Type"]
    response[REPLAYED_HEADER] = "true"
    return response


def request_fingerprint(request) -> Fingerprint | None:
    """The key and what it must be used with, when an unsafe request carries one."""
    if request.method not in UNSAFE_METHODS:
        return None
    key = request.headers.get(KEY_HEADER)
    if key is None:
        return None
    if not KEY_PATTERN.fullmatch(key):
        raise InvalidIdempotencyKey()
    return Fingerprint(
        key=key,
        method=request.method,
        path=request.path,
        body_sha256=hashlib.sha256(request.body).hexdigest(),
    )


def stored_answer(*, user_id, fingerprint: Fingerprint) -> IdempotencyKey | None:
    answer = selectors.find_idempotency_key(user_id=user_id, key=fingerprint.key)
    if answer is None:
        return None
    if not answer.matches(
        method=fingerprint.method, path=fingerprint.path, body_sha256=fingerprint.body_sha256
    ):
        raise IdempotencyKeyReused()
    return answer


class IdempotentMixin:
    """For ``APIView`` subclasses (first in the bases): honours ``Idempotency-Key`` on their
    unsafe methods."""

    # The key this request claimed, and the transaction it was claimed in (left by an error,
    # it rolls back).
    _idempotency_claim: IdempotencyKey | None
    _idempotency_transaction: ExitStack

    def dispatch(self, request, *args, **kwargs):
        self._idempotency_claim = None
        self._idempotency_transaction = ExitStack()
        with self._idempotency_transaction:
            return super().dispatch(request, *args, **kwargs)

    def check_throttles(self, request):
        # A method the view does not answer is 405, whatever key it carries.
        handled = hasattr(self, request.method.lower())
        fingerprint = request_fingerprint(request) if handled else None
        if fingerprint is not None:
            self._claim(request, fingerprint)
        try:
            super().check_throttles(request)
        except Exception:
            # Refused before running (429): nothing to keep, the key stays free.
            self._abandon_claim()
            raise

    def _abandon_claim(self) -> None:
        if self._idempotency_claim is not None:
            self._idempotency_claim = None
            transaction.set_rollback(True)
            self._idempotency_transaction.close()

    def _claim(self, request, fingerprint: Fingerprint) -> None:
        self._idempotency_transaction.enter_context(transaction.atomic())
        try:
            self._idempotency_claim = services.claim_idempotency_key(
                user_id=request.user.pk,
                key=fingerprint.key,
                method=fingerprint.method,
                path=fingerprint.path,
                body_sha256=fingerprint.body_sha256,
            )
            return
        except (DatabaseError, IdempotencyKeyInUse) as exc:
            transaction.set_rollback(True)
            self._idempotency_transaction.close()
            if not isinstance(exc, IntegrityError):
                raise
        # The key was taken: by an earlier request, or by a twin whose transaction the insert
        # waited for. Its answer (or, purged meanwhile, a retry).
        answer = stored_answer(user_id=request.user.pk, fingerprint=fingerprint)
        if answer is None:
            raise IdempotencyKeyInUse()
        raise Replay(answer)

    def handle_exception(self, exc):
        if isinstance(exc, Replay):
            return replayed_response(exc.answer)
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        claim, self._idempotency_claim = self._idempotency_claim, None
        if claim is None:
            return response
        try:
            try:
                if response.status_code >= 500:
                    transaction.set_rollback(True)
                else:
                    response.render()  # what is kept is what is sent
                    services.record_idempotent_answer(
                        claim=claim, status=response.status_code, body=response.content.decode()
                    )
            except DatabaseError:
                transaction.set_rollback(True)
                raise
            finally:
                self._idempotency_transaction.close()  # COMMIT, or ROLLBACK
        except DatabaseError as exc:
            # A lost COMMIT: nothing was kept, and the client is told to retry.
            error = super().handle_exception(exc)
            return super().finalize_response(request, error, *args, **kwargs)
        return response
