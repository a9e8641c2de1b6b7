"""The base of the project's management commands: a failure of what the command runs against
(the database unreachable or not migrated, a file that cannot be written) ends in one line
on stderr and a non-zero exit, never a traceback. ``--traceback`` still shows it."""

import sqlite3

import psycopg
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class OperatorCommand(BaseCommand):
    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except (DatabaseError, psycopg.Error, sqlite3.Error) as exc:
            raise CommandError(f"database error: {first_line(exc)}") from None
        except OSError as exc:
            raise CommandError(first_line(exc)) from None
