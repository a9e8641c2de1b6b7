from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from subscriptions.services import run_expiry_sweep


class Command(BaseCommand):
    help = "Expire active or grace subscriptions whose period has ended (run it from cron)."

    def handle(self, *args, **options):
        try:
            counts = run_expiry_sweep()
        except DatabaseError as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise CommandError(f"expiry sweep failed: {reason}") from None
        self.stdout.write(f"expired {counts['expired']} subscription(s)")
