from django.core.management.base import CommandError

from journal.demo import fill_demo_data
from ops.commands import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Fill the database with realistic demo users, sessions, subscriptions and journal "
        "entries (bulk, the usage rows right), for development and benchmarks."
    )

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=100, help="users to add (100)")
        parser.add_argument("--entries", type=int, default=2000, help="entries to add (2000)")
        parser.add_argument(
            "--sessions-per-user", type=int, default=1, help="logins of each user (1)"
        )
        parser.add_argument(
            "--subscribed", type=float, default=0.1, help="share of users with a subscription"
        )
        parser.add_argument("--seed", type=int, default=1, help="of the random choices")

    def handle_command(self, *args, users, entries, sessions_per_user, subscribed, seed, **options):
        if users < 0 or entries < 0 or sessions_per_user < 0:
            raise CommandError("--users, --entries and --sessions-per-user must be 0 or more")
        if entries and not users:
            raise CommandError("--entries needs --users: entries belong to users")
        if not 0 <= subscribed <= 1:
            raise CommandError("--subscribed is a share: 0 to 1")
        filled = fill_demo_data(
            users=users,
            entries=entries,
            sessions_per_user=sessions_per_user,
            subscribed_share=subscribed,
            seed=seed,
            progress=lambda message: self.stderr.write(f"  {message}"),
        )
        self.stdout.write(
            f"added {filled.users} users, {filled.entries} entries ({filled.bytes} bytes), "
            f"{filled.sessions} sessions, {filled.subscriptions} subscriptions "
            f"in {filled.seconds:.1f} s"
        )
