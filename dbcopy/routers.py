"""The copy's own database aliases, and the router that says which of them is migrated.

They are opened at run time (``dbcopy.sqlite.register_sqlite_alias``), never named in
``DATABASES``: ``copy_source``, the SQLite file ``copy_from_sqlite`` reads (read-only, never
migrated or written), and ``rollback_target``, the new SQLite file ``copy_to_sqlite`` writes
(migrated, then filled)."""

COPY_SOURCE = "copy_source"
ROLLBACK_TARGET = "rollback_target"


class CopyRouter:
    """After the site's router (``settings.DATABASE_ROUTERS``), which decides for ``default``,
    the replicas and the server's own views: of every other alias, only the rollback file is
    migrated."""

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == ROLLBACK_TARGET
