"""What the site's runtime reads of the database server itself; it keeps no tables of its own."""

from django.db import models


class ServerSetting(models.Model):
    """A row of PostgreSQL's ``pg_settings`` view: a server setting and its current value."""

    name = models.TextField(primary_key=True)
    setting = models.TextField()

    class Meta:
        managed = False  # the server's own view: never created, migrated or copied
        db_table = "pg_settings"

    def __str__(self) -> str:
        return f"{self.name} = {self.setting}"
