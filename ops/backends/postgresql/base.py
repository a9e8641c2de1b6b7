"""PostgreSQL as django-prometheus instruments it, with one piece of DDL Django's schema
editor lacks: a setting of the app's role in its database (``ALTER ROLE ... IN DATABASE ...
SET``), which every new server connection starts with. Behind PgBouncer in transaction mode
that is how ``statement_timeout`` reaches the server (``ops.pooler``). The statement is a
template of the schema editor, as Django keeps its own DDL."""

from django.db.backends.postgresql.schema import DatabaseSchemaEditor as PostgresSchemaEditor
from django_prometheus.db.backends.postgresql import base


class DatabaseSchemaEditor(PostgresSchemaEditor):
    sql_alter_role_setting = (
        "ALTER ROLE CURRENT_USER IN DATABASE %(database)s SET %(setting)s = %(value)s"
    )

    def alter_role_setting(self, setting: str, value: str) -> None:
        """Give the current role ``setting = value`` in this connection's database."""
        self.execute(
            self.sql_alter_role_setting
            % {
                "database": self.quote_name(self.connection.settings_dict["NAME"]),
                "setting": self.quote_name(setting),
                "value": self.quote_value(value),
            }
        )


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
