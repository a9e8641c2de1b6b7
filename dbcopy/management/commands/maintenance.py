from django.core.management.base import BaseCommand

from dbcopy import maintenance


class Command(BaseCommand):
    help = "Maintenance mode: while on, every unsafe request answers 503 and reads keep working."

    def add_arguments(self, parser):
        parser.add_argument("state", choices=["on", "off", "status"])

    def handle(self, *args, state, **options):
        if state == "on":
            maintenance.turn_on()
        elif state == "off":
            maintenance.turn_off()
        since = maintenance.since()
        if since is None:
            self.stdout.write("maintenance is off")
        else:
            self.stdout.write(f"maintenance is on (since {since}): writes answer 503")
