from ops.commands import OperatorCommand
from subscriptions.services import run_expiry_sweep


class Command(OperatorCommand):
    help = "Expire active or grace subscriptions whose period has ended (run it from cron)."

    def handle_command(self, *args, **options):
        counts = run_expiry_sweep()
        self.stdout.write(f"expired {counts['expired']} subscription(s)")
