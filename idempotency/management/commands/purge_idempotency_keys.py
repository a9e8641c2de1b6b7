from django.core.management.base import CommandError

from idempotency.services import purge_idempotency_keys
from ops.commands import OperatorCommand


class Command(OperatorCommand):
    help = "Delete Idempotency-Keys and their answers older than IDEMPOTENCY_KEY_RETENTION_HOURS."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="rows deleted per transaction (default 1000)",
        )

    def handle_command(self, *args, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")

        def progress(done):
            if options["verbosity"] >= 2:
                self.stdout.write(f"{done} deleted so far")

        purged = purge_idempotency_keys(batch_size=batch_size, progress=progress)
        self.stdout.write(f"purged {purged} idempotency key(s)")
