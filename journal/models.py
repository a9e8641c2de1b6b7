import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class JournalEntry(models.Model):
    """One entry. ``size_bytes`` is the UTF-8 length of ``content``, kept in the row so that an
    update or a delete knows the bytes it gives back to the user's ``JournalUsage``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="journal_entries"
    )
    content = models.TextField()
    size_bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "journal entries"
        indexes = [models.Index(fields=["user", "created_at"], name="journal_user_created_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(size_bytes__gte=0), name="journal_size_not_negative")
        ]

    def __str__(self) -> str:
        return f"entry {self.id} ({self.size_bytes} bytes)"


class JournalUsage(models.Model):
    """The bytes and entries of one user's journal, kept up to date by every write in the same
    transaction as the write (under the lock on the user's row), so that the quota check
    reads one row whatever the journal's size. A user who never wrote has no row."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="journal_usage",
    )
    bytes_used = models.BigIntegerField(default=0)
    entries = models.BigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "journal usage"
        constraints = [
            models.CheckConstraint(
                condition=Q(bytes_used__gte=0), name="journal_usage_bytes_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(entries__gte=0), name="journal_usage_entries_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"usage of {self.user_id}: {self.bytes_used} bytes in {self.entries} entries"
