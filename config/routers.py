"""The database router.

Every read and write goes to ``default``. Read replicas (``DATABASE_REPLICA_URLS``) and the
read-only source alias of the SQLite copy are added to this router when they exist; the rule
that holds for both already: only ``default`` is ever migrated or written.
"""

from config.database import DB_DEFAULT


class DatabaseRouter:
    def db_for_read(self, model, **hints):
        return DB_DEFAULT

    def db_for_write(self, model, **hints):
        return DB_DEFAULT

    def allow_relation(self, obj1, obj2, **hints):
        return obj1._state.db == obj2._state.db or None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DB_DEFAULT
