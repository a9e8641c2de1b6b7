#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Commands connect to PostgreSQL without a pool (config/settings.py): a missing or
    # unreachable database then fails a command at once, in one line.
    os.environ.setdefault("DB_POOL", "0")
    from django.core.management import execute_from_command_line
    from django.db import DatabaseError

    try:
        execute_from_command_line(sys.argv)
    except DatabaseError as exc:
        # Django's own commands (migrate, check, ...): one line too, as the project's own
        # commands print it (ops.commands), unless --traceback asks for the whole story.
        if "--traceback" in sys.argv:
            raise
        from ops.commands import describe_database_error

        sys.stderr.write(f"CommandError: database error: {describe_database_error(exc)}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
