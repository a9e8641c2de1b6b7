import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class JournalEntry(models.Model):
    """One entry. ``size_bytes`` is the UTF-8 length of ``content``, kept in the row so that a
    user's usage is one indexed sum."""

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

    def __str__(self):
        return f"entry {self.id} ({self.size_bytes} bytes)"
