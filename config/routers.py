"""The database router.

Every ORM read and write goes to ``default``. Only ``default`` and the fresh SQLite file of a
rollback copy are ever migrated; the SQLite source of a copy (``copy_source``) is opened
read-only and never migrated. Read replicas (``DATABASE_REPLICA_URLS``) will add read aliases
here.
"""

from config.database import DB_DEFAULT, DB_ROLLBACK_TARGET


class DatabaseRouter:
    def db_for_read(self, model, **hints):
        return DB_DEFAULT

    def db_for_write(self, model, **hints):
        return DB_DEFAULT

    def allow_relation(self, obj1, obj2, **hints):
        return obj1._state.db == obj2._state.db or None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db in (DB_DEFAULT, DB_ROLLBACK_TARGET)
