from django.db import models


class CaptureMark(models.Model):
    """How far the target has caught up with a captured SQLite source: the highest change
    sequence number applied. Written in the same transaction as the rows it vouches for."""

    source = models.CharField(max_length=1024, unique=True)
    last_seq = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.source} @ {self.last_seq}"
