"""What journal data must satisfy on any database that holds it, declared for the copy's
verification (``JournalConfig.data_invariants``): each rule is a description and a queryset
of the rows that break it."""

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Func, IntegerField, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from journal.models import JournalEntry


class OctetLength(Func):
    """The length of a text in UTF-8 bytes, as the quota counts it."""

    function = "octet_length"
    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="length(CAST(%(expressions)s AS BLOB))", **extra_context
        )


def entries_of_the_wrong_size() -> QuerySet:
    return JournalEntry.objects.exclude(size_bytes=OctetLength("content"))


def users_whose_usage_is_out_of_step() -> QuerySet:
    """A user with entries has a usage row holding their sum and count; a user without
    entries has none, or one at zero. One pass: users joined to their entries, grouped."""
    users = get_user_model().objects.annotate(
        bytes_of_entries=Coalesce(Sum("journal_entries__size_bytes"), 0),
        entries_of_entries=Count("journal_entries"),
        usage_bytes=F("journal_usage__bytes_used"),
        usage_entries=F("journal_usage__entries"),
    )
    no_row = Q(usage_bytes__isnull=True, entries_of_entries__gt=0)
    wrong_row = Q(usage_bytes__isnull=False) & (
        ~Q(usage_bytes=F("bytes_of_entries")) | ~Q(usage_entries=F("entries_of_entries"))
    )
    return users.filter(no_row | wrong_row)


def data_invariants() -> list[tuple[str, QuerySet]]:
    return [
        (
            "journal entries whose size_bytes is not the UTF-8 length of their content",
            entries_of_the_wrong_size(),
        ),
        (
            "users whose journal usage row is not the sum and count of their entries",
            users_whose_usage_is_out_of_step(),
        ),
    ]
