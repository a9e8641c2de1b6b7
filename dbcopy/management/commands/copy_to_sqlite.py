from dbcopy.management.commands._common import (
    add_progress_argument,
    one_line_errors,
    progress_for,
    report_verification,
)
from dbcopy.rollback import copy_postgres_to_sqlite
from ops.commands import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Rollback: copy the configured PostgreSQL database into a new SQLite file (schema from "
        "the migrations), then verify it. Serve it with SQLITE_PATH=PATH and DATABASE_URL unset."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the SQLite file to create (must not exist)")
        add_progress_argument(parser)

    def handle_command(self, *args, path, no_progress, **options):
        progress = progress_for(self, no_progress=no_progress)
        with one_line_errors(self, unchanged="no file was left behind"):
            report = copy_postgres_to_sqlite(path, progress=progress)
        report_verification(self, report.verification)
        self.stdout.write(
            f"copied {report.tables} tables, {report.rows:,} rows into {path} in "
            f"{report.seconds:.1f} s, verified"
        )
