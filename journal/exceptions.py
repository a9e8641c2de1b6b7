from ops.errors import NotFound, Refused, TooLarge


class EntryTooLarge(TooLarge):
    code = "entry_too_large"
    message = "Entry is larger than the limit."


class QuotaExceeded(Refused):
    code = "quota_exceeded"
    message = "Journal quota exceeded."


class EntryNotFound(NotFound):
    code = "entry_not_found"
    message = "No such journal entry."
