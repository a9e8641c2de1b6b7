from django.core.management.base import CommandError

from config.commands import OperatorCommand
from dbcopy import copy
from dbcopy.management.commands._common import one_line_errors, progress_for, report_verification


class Command(OperatorCommand):
    help = (
        "Copy a SQLite database of this app into the configured PostgreSQL database, then "
        "verify it. Run `migrate` on the target first. Online cutover: --capture for the first "
        "copy while the app keeps writing, --catch-up to replay the changes since (the last one "
        "under `maintenance on`), --stop-capture to remove the triggers afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the SQLite database file")
        parser.add_argument(
            "--truncate",
            action="store_true",
            help="replace whatever the target holds (refused otherwise)",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--capture",
            action="store_true",
            help="record every change made to the source from now on (triggers), then copy",
        )
        mode.add_argument(
            "--catch-up",
            action="store_true",
            help="replay the changes recorded since the last --capture copy or catch-up",
        )
        mode.add_argument(
            "--stop-capture",
            action="store_true",
            help="remove the change capture triggers and table from the source",
        )

    def handle(self, *args, path, truncate, capture, catch_up, stop_capture, **options):
        if truncate and (catch_up or stop_capture):
            raise CommandError("--truncate goes with a full copy only")
        progress = progress_for(self)
        if stop_capture:
            with one_line_errors(self, unchanged="the source is unchanged"):
                copy.stop_capture(path)
            self.stdout.write(f"change capture removed from {path}")
            return
        if catch_up:
            with one_line_errors(self, unchanged="the target is unchanged"):
                report = copy.catch_up(path, progress=progress)
            self.stdout.write(
                f"caught up to change {report.mark}: {report.changed_keys} changed rows "
                f"({report.upserted} written, {report.deleted} deleted) in "
                f"{report.seconds:.2f} s, verified"
            )
            return
        with one_line_errors(self, unchanged="the target is unchanged"):
            report = copy.copy_sqlite_to_postgres(
                path, truncate=truncate, capture_changes=capture, progress=progress
            )
        report_verification(self, report.verification)
        rate = report.rows / report.seconds if report.seconds else 0
        self.stdout.write(
            f"copied {report.tables} tables, {report.rows:,} rows in {report.seconds:.1f} s "
            f"({rate:,.0f} rows/s), verified"
            + (f"; changes captured from mark {report.mark}" if capture else "")
        )
