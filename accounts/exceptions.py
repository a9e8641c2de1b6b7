from rest_framework import exceptions


class AccountDeleted(exceptions.AuthenticationFailed):
    """The request's account was deleted while the request waited for its lock: the token
    that let the request in no longer names anyone."""

    default_detail = "This account has been deleted."
    default_code = "account_deleted"
