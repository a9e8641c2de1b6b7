from ops.errors import Unauthenticated


class AccountDeleted(Unauthenticated):
    """The request's account was deleted while the request waited for its lock: the token
    that let the request in no longer names anyone."""

    code = "account_deleted"
    message = "This account has been deleted."
