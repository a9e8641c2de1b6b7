from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from dbcopy import steps
from dbcopy.management.commands._common import (
    add_progress_argument,
    held,
    one_line_errors,
    progress_for,
    report_verification,
)
from dbcopy.rollback import copy_postgres_to_sqlite
from dbcopy.switch import switch_to_sqlite
from ops.commands import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Rollback: copy the configured PostgreSQL database into a new SQLite file (schema from "
        "the migrations), then verify it. Serve it with SQLITE_PATH=PATH and DATABASE_URL unset, "
        "or in one step with --switch. --stop-capture removes what a --switch killed with "
        "SIGKILL left on PostgreSQL."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="the SQLite file to create (must not exist)")
        add_progress_argument(parser)
        parser.add_argument(
            "--switch",
            action="store_true",
            help="in one step: every row copied while the app writes PostgreSQL (its changes "
            "captured and caught up), then the app served by `make serve` moved to the new file "
            "(database target file, gunicorn's workers reloaded), requests held during the last "
            "catch-up instead of refused",
        )
        parser.add_argument(
            "--stop-capture",
            action="store_true",
            help="copy nothing: remove the change capture (triggers and change log) that a "
            "--switch killed with SIGKILL left on PostgreSQL",
        )

    def handle_command(self, *args, path, no_progress, switch, stop_capture, **options):
        if stop_capture:
            if path is not None or switch:
                raise CommandError("--stop-capture takes no PATH and no --switch")
            with one_line_errors(self, unchanged="PostgreSQL is unchanged"):
                removed = steps.stop_capture_on_postgres()
            where = f"PostgreSQL ({connections[DEFAULT_DB_ALIAS].settings_dict['NAME']})"
            if removed:
                self.stdout.write(f"change capture removed from {where}")
            else:
                self.stdout.write(f"no change capture on {where}: nothing to remove")
            return
        if path is None:
            raise CommandError("PATH is required: the SQLite file to create")
        progress = progress_for(self, no_progress=no_progress)
        if not switch:
            with one_line_errors(self, unchanged="no file was left behind"):
                report = copy_postgres_to_sqlite(path, progress=progress)
            self._copied(path, report)
            return
        with one_line_errors(self, unchanged="the app serves what it served before"):
            moved = switch_to_sqlite(
                path,
                progress=progress,
                on_round=lambda r: self.stdout.write(f"while writing: {_caught_up(r)}"),
                on_holding=lambda: self.stdout.write(
                    f"holding requests: gunicorn's new workers start on {path}"
                ),
            )
        self._copied(path, moved.copy)
        self.stdout.write(f"once the old workers left: {_caught_up(moved.final)}")
        self.stdout.write(
            f"switched: gunicorn (pid {moved.master}) serves from {path}; {held(moved)}"
        )

    def _copied(self, path, report):
        report_verification(self, report.verification)
        self.stdout.write(
            f"copied {report.tables} tables, {report.rows:,} rows into {path} in "
            f"{report.seconds:.1f} s, verified"
        )


def _caught_up(report) -> str:
    return (
        f"caught up with PostgreSQL: {report.changed_keys} changed rows ({report.upserted} "
        f"written, {report.deleted} deleted) in {report.seconds:.2f} s, verified"
    )
