from django.core.management.base import CommandError

from ops import maintenance
from ops.commands import OperatorCommand


class Command(OperatorCommand):
    help = "Maintenance mode: while on, every unsafe request answers 503 and reads keep working."

    def add_arguments(self, parser):
        parser.add_argument("state", choices=["on", "off", "status"])

    def handle_command(self, *args, state, **options):
        try:
            if state == "on":
                maintenance.turn_on()
            elif state == "off":
                maintenance.turn_off()
            since = maintenance.since()
        except OSError as exc:
            raise CommandError(
                f"maintenance {state}: cannot use the flag file {maintenance.flag_path()}: "
                f"{exc.strerror or exc}"
            ) from None
        if since is None:
            self.stdout.write("maintenance is off")
        else:
            self.stdout.write(f"maintenance is on (since {since}): writes answer 503")
