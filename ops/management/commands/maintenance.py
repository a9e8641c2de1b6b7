from django.core.management.base import CommandError

from ops import maintenance
from ops.commands import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Maintenance mode: while on, every unsafe request answers 503 and reads keep working. "
        "`on --for SECONDS` tells clients when to come back (Retry-After); without it they are "
        "told to wait as long as maintenance has lasted so far."
    )

    def add_arguments(self, parser):
        parser.add_argument("state", choices=["on", "off", "status"])
        parser.add_argument(
            "--for",
            dest="expected_seconds",
            type=int,
            metavar="SECONDS",
            help="with on: how long maintenance is expected to last",
        )

    def handle_command(self, *args, state, expected_seconds, **options):
        if expected_seconds is not None and (state != "on" or expected_seconds < 1):
            raise CommandError("--for goes with `on` and a number of seconds of at least 1")
        try:
            if state == "on":
                maintenance.turn_on(expected_seconds=expected_seconds)
            elif state == "off":
                maintenance.turn_off()
            since = maintenance.since()
            end = maintenance.expected_end()
            held = maintenance.hold_since()
        except OSError as exc:
            raise CommandError(
                f"maintenance {state}: cannot use the flag file {maintenance.flag_path()}: "
                f"{exc.strerror or exc}"
            ) from None
        if since is None:
            self.stdout.write("maintenance is off")
        else:
            until = f", expected until {end.isoformat(timespec='seconds')}" if end else ""
            self.stdout.write(f"maintenance is on (since {since}{until}): writes answer 503")
        if held is not None:
            # Not lifted here: only the move knows whether its last step ran (docs/runbook.md).
            self.stdout.write(
                f"requests are held for a move since {held.isoformat(timespec='seconds')} "
                f"({maintenance.hold_path()}): the move lifts the hold when it ends; after a "
                "move killed with SIGKILL, see docs/runbook.md"
            )
