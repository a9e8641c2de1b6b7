from django.core.management.base import CommandError

from ops.commands import OperatorCommand
from tokens.services import purge_expired_tokens


class Command(OperatorCommand):
    help = (
        "Delete expired sessions (with their refresh tokens), refresh tokens rotated longer "
        "ago than their lifetime, and revoked JTIs past expiry."
    )

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

        def progress(label, done):
            if options["verbosity"] >= 2:
                self.stdout.write(f"{label}: {done} deleted so far")

        counts = purge_expired_tokens(batch_size=batch_size, progress=progress)
        self.stdout.write(
            f"purged {counts['sessions']} expired session(s), "
            f"{counts['rotated_refresh_tokens']} rotated refresh token(s) and "
            f"{counts['revoked_jtis']} revoked JTI(s)"
        )
