import json

from django.conf import settings
from django.core.management.base import CommandError

from dbcopy import steps
from dbcopy.check import CheckReport, check_copy
from dbcopy.cutover import cutover as run_cutover
from dbcopy.management.commands._common import (
    add_progress_argument,
    held,
    one_line_errors,
    progress_for,
    report_verification,
)
from dbcopy.plan import prepare
from dbcopy.switch import switch_to_postgres
from ops import maintenance
from ops.commands import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Copy a SQLite database of this app into the configured PostgreSQL database, then "
        "verify it. Run `migrate` on the target first. Online cutover: --capture for the first "
        "copy while the app keeps writing, --catch-up to replay the changes since (the last one "
        "under `maintenance on`) or --cutover for those steps in one, --stop-capture to remove "
        "the triggers afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the SQLite database file")
        add_progress_argument(parser)
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
            "--cutover",
            action="store_true",
            help="catch up until little is left, then turn maintenance on, catch up the rest "
            "and verify everything; maintenance stays on for the switch to PostgreSQL",
        )
        parser.add_argument(
            "--switch",
            action="store_true",
            help="with --cutover: move the app served by `make serve` to this database in one "
            "step (database target file, gunicorn's workers reloaded), requests held meanwhile "
            "instead of refused",
        )
        mode.add_argument(
            "--stop-capture",
            action="store_true",
            help="remove the change capture triggers and table from the source",
        )
        mode.add_argument(
            "--check",
            action="store_true",
            help="copy nothing: report every problem a copy would meet (read-only on both "
            "sides) and a forecast; exit 0 only when the copy would succeed",
        )
        parser.add_argument(
            "--format",
            choices=["text", "json"],
            default="text",
            help="with --check: the report as text or as one JSON document",
        )

    def handle_command(
        self,
        *args,
        path,
        truncate,
        capture,
        catch_up,
        cutover,
        stop_capture,
        switch,
        no_progress,
        check,
        format,
        **options,
    ):
        if truncate and (catch_up or cutover or stop_capture):
            raise CommandError("--truncate goes with a full copy only")
        if switch and not cutover:
            raise CommandError("--switch goes with --cutover only")
        if format != "text" and not check:
            raise CommandError("--format goes with --check only")
        if check:
            if truncate:
                raise CommandError("--check copies nothing: --truncate does not go with it")
            self._check(path, format)
            return
        progress = progress_for(self, no_progress=no_progress)
        if stop_capture:
            with one_line_errors(self, unchanged="the source is unchanged"):
                steps.stop_capture(path)
            self.stdout.write(f"change capture removed from {path}")
            return
        if catch_up:
            with one_line_errors(self, unchanged="the target is unchanged"):
                report = steps.catch_up(path, progress=progress)
            self.stdout.write(_caught_up(report))
            return
        if cutover:
            self._cutover(path, progress, switch=switch)
            return
        with one_line_errors(self, unchanged="the target is unchanged"):
            report = steps.copy_sqlite_to_postgres(
                path, truncate=truncate, capture_changes=capture, progress=progress
            )
        report_verification(self, report.verification)
        rate = report.rows / report.seconds if report.seconds else 0
        self.stdout.write(
            f"copied {report.tables} tables, {report.rows:,} rows in {report.seconds:.1f} s "
            f"({rate:,.0f} rows/s), verified"
            + (f"; changes captured from mark {report.mark}" if capture else "")
        )

    def _check(self, path, format):
        report = check_copy(path)
        if format == "json":
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self.stdout.write("\n".join(_check_text(report)))
        if not report.ok:
            count = sum(f.count for f in report.findings)
            raise CommandError(
                f"{len(report.findings)} problems ({count:,} rows or settings): the copy would "
                "fail; nothing was changed"
            )

    def _cutover(self, path, progress, *, switch=False):
        on_round = lambda r: self.stdout.write(f"while writing: {_caught_up(r)}")  # noqa: E731
        if switch:
            with one_line_errors(self, unchanged="the app serves what it served before"):
                moved = switch_to_postgres(
                    path,
                    progress=progress,
                    on_round=on_round,
                    on_verified=self._verified,
                    on_holding=lambda: self.stdout.write(
                        "holding requests: gunicorn's new workers start on PostgreSQL"
                    ),
                )
            self.stdout.write(f"once the old workers left: {_caught_up(moved.final)}")
            self.stdout.write(
                f"switched: gunicorn (pid {moved.master}) serves from PostgreSQL "
                f"({settings.DATABASE_TARGET_PATH}); {held(moved)}"
            )
            return
        if maintenance.is_on():
            unchanged = "maintenance stays on, as it was"
        else:
            unchanged = f"maintenance is off: the app goes on writing to {path}"
        with one_line_errors(self, unchanged=unchanged), prepare(path) as plan:
            report = run_cutover(
                plan,
                progress=progress,
                on_round=on_round,
                on_verified=self._verified,
                on_pause=lambda: self.stdout.write("maintenance on: writes answer 503"),
            )
        self.stdout.write(f"writes paused: {_caught_up(report.final)}")
        self.stdout.write(
            f"writes paused for {report.paused_seconds:.2f} s so far. Next: restart the app "
            "with DATABASE_URL set to this database, check /readyz, then `manage.py "
            "maintenance off`"
        )

    def _verified(self, report):
        self.stdout.write(f"while writing: {_caught_up(report)}")
        report_verification(self, report.verification)
        self.stdout.write(f"  (every table at change {report.mark}, while the app wrote on)")


def _check_text(report: CheckReport) -> list[str]:
    lines = [f"check of {report.source} into {report.target}"]
    for finding in report.findings:
        line = f"  {finding.check}: {finding.message} ({finding.count:,}"
        if finding.samples:  # the samples of a finding are of one table and column
            first = finding.samples[0]
            where = f"{first.table}.{first.column}" if first.column else first.table
            line += f"; e.g. {where} {', '.join(s.key for s in finding.samples)}"
        lines.append(line + ")")
    forecast = report.forecast
    if forecast is not None:
        line = (
            f"forecast: {forecast.tables} tables, {forecast.rows:,} rows, "
            f"{forecast.bytes / 1e6:,.1f} MB; the copy about {forecast.copy_seconds:,.1f} s"
        )
        if forecast.write_rate is not None:
            line += (
                f"; capture on, {forecast.write_rate:,.1f} writes/s now: the cutover's pause "
                f"about {forecast.cutover_pause_seconds:,.2f} s"
            )
        lines.append(line)
    return lines


def _caught_up(report) -> str:
    return (
        f"caught up to change {report.mark}: {report.changed_keys} changed rows "
        f"({report.upserted} written, {report.deleted} deleted) in "
        f"{report.seconds:.2f} s, verified"
    )
