from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotencyKey(models.Model):
    """A client's ``Idempotency-Key`` and the answer of the request that first carried it.
    Written in the same transaction as that request's effect: both are kept or neither, so a
    retry replays the answer or runs again, never both. The unique (user, key) constraint
    decides between concurrent twins."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(max_length=255)
    # The request's fingerprint: the same key with another one is refused.
    method = models.CharField(max_length=10)
    path = models.TextField()
    body_sha256 = models.CharField(max_length=64)
    # The answer, as sent the first time.
    status = models.PositiveSmallIntegerField()
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_user_key_uniq")
        ]
        # The purge deletes by age.
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_created_idx")]

    def __str__(self) -> str:
        return f"idempotency key {self.key!r} ({self.method} {self.path} -> {self.status})"

    def matches(self, *, method: str, path: str, body_sha256: str) -> bool:
        return (self.method, self.path, self.body_sha256) == (method, path, body_sha256)
