import time
from pathlib import Path

from config.target import sqlite_url
from dbcopy.management.commands._common import (
    add_progress_argument,
    one_line_errors,
    progress_for,
    report_verification,
)
from dbcopy.rollback import copy_postgres_to_sqlite
from dbcopy.switch import gunicorn_master, reload_workers, switch_app
from ops import maintenance
from ops.commands import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Rollback: copy the configured PostgreSQL database into a new SQLite file (schema from "
        "the migrations), then verify it. Serve it with SQLITE_PATH=PATH and DATABASE_URL unset, "
        "or in one step with --switch."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the SQLite file to create (must not exist)")
        add_progress_argument(parser)
        parser.add_argument(
            "--switch",
            action="store_true",
            help="in one step: maintenance on, the copy, then the app served by `make serve` "
            "moved to the new file (database target file, gunicorn's workers reloaded) and "
            "maintenance off",
        )

    def handle_command(self, *args, path, no_progress, switch, **options):
        progress = progress_for(self, no_progress=no_progress)
        if not switch:
            with one_line_errors(self, unchanged="no file was left behind"):
                report = copy_postgres_to_sqlite(path, progress=progress)
            self._copied(path, report)
            return
        with one_line_errors(self, unchanged="nothing was paused"):
            master = gunicorn_master()
        was_on = maintenance.is_on()
        maintenance.turn_on()
        paused = time.monotonic()
        self.stdout.write("maintenance on: writes answer 503")
        unchanged = "no file was left behind" + (
            "; maintenance stays on, as it was" if was_on else "; maintenance is off again"
        )
        try:
            with one_line_errors(self, unchanged=unchanged):
                # Once the workers serving before are gone, so is every request that passed
                # the maintenance check before it went on: nothing writes PostgreSQL any more.
                reload_workers(master)
                report = copy_postgres_to_sqlite(path, progress=progress)
        except BaseException:
            if not was_on:
                maintenance.turn_off()
            raise
        self._copied(path, report)
        target = sqlite_url(Path(path))
        with one_line_errors(
            self,
            unchanged=f"maintenance stays on; the database target names {target}: once gunicorn "
            f"(pid {master}) serves with new workers only, run `manage.py maintenance off`",
        ):
            switch_app(master, target)
        maintenance.turn_off()
        self.stdout.write(
            f"switched: gunicorn (pid {master}) serves from {path}; maintenance off: writes "
            f"were refused for {time.monotonic() - paused:.2f} s"
        )

    def _copied(self, path, report):
        report_verification(self, report.verification)
        self.stdout.write(
            f"copied {report.tables} tables, {report.rows:,} rows into {path} in "
            f"{report.seconds:.1f} s, verified"
        )
