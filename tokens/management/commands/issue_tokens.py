import json

from django.core.management.base import CommandError
from django.core.validators import validate_email
from django.forms import ValidationError

from accounts.services import upsert_user
from ops.commands import OperatorCommand
from ops.text import is_storable_text
from tokens.services import start_session


class Command(OperatorCommand):
    help = "Create or find a user by provider and subject and print a fresh token pair as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--provider", required=True)
        parser.add_argument("--subject", required=True)
        parser.add_argument("--email", default="")

    def handle_command(self, *args, provider, subject, email, **options):
        provider, subject, email = provider.strip(), subject.strip(), email.strip()
        for option, value in (("--provider", provider), ("--subject", subject), ("--email", email)):
            if not is_storable_text(value):
                raise CommandError(
                    f"{option} holds a NUL, a lone surrogate or bytes that are not UTF-8"
                )
        if not provider or len(provider) > 32:
            raise CommandError("--provider must be 1 to 32 characters")
        if not subject or len(subject) > 255:
            raise CommandError("--subject must be 1 to 255 characters")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise CommandError(f"--email {email!r} is not an email address") from None
        user = upsert_user(provider=provider, provider_subject=subject, email=email)
        if not user.is_active:
            raise CommandError(f"user {user.pk} is disabled")
        pair = start_session(user=user)
        self.stdout.write(
            json.dumps({"user_id": str(user.pk), "access": pair.access, "refresh": pair.refresh})
        )
