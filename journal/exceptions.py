from rest_framework import exceptions, status


class EntryTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Entry is larger than the limit."
    default_code = "entry_too_large"


class QuotaExceeded(exceptions.PermissionDenied):
    default_detail = "Journal quota exceeded."
    default_code = "quota_exceeded"


class EntryNotFound(exceptions.NotFound):
    default_detail = "No such journal entry."
    default_code = "entry_not_found"
