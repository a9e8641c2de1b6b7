from ops.errors import Conflict, Invalid, Unprocessable


class InvalidIdempotencyKey(Invalid):
    code = "invalid_idempotency_key"
    message = "Idempotency-Key must be 1 to 255 printable ASCII characters."


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used for another request (method, path or body)."


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"
    message = "A request with this Idempotency-Key is still running; retry shortly."
    retry_after = 1
