from dbcopy import steps
from dbcopy.exceptions import VerificationFailed
from dbcopy.management.commands._common import (
    add_progress_argument,
    one_line_errors,
    progress_for,
    report_verification,
)
from ops.commands import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Compare a SQLite database with the configured PostgreSQL database: row counts, "
        "content checksums per table and invariants. Exit 0 only if they match."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the SQLite database file")
        add_progress_argument(parser)

    def handle_command(self, *args, path, no_progress, **options):
        progress = progress_for(self, no_progress=no_progress)
        with one_line_errors(self, unchanged="nothing was changed"):
            report = steps.verify_copy(path, progress=progress)
            if not report.ok:
                raise VerificationFailed(report.failures())
        report_verification(self, report)
