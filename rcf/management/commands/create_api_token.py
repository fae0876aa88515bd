"""Issue an API token for a sync client: ``create_api_token USERNAME [--read-only] [--name NAME]``.

The key is printed once and not stored (only its digest is); revoke the token
in the admin (API tokens) by deleting it.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from rcf.models import ApiToken


class Command(BaseCommand):
    help = "Issue an API token for USERNAME and print its key (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--read-only", action="store_true",
            help="The token can never write, whatever the user's role allows.",
        )
        parser.add_argument("--name", default="", help="Which client system will use it (shown in the admin).")

    def handle(self, *args, username, read_only, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; a token for it would not authenticate.")
        token, key = ApiToken.issue(user=user, name=name, read_only=read_only)
        kind = "read-only" if token.read_only else "read-write"
        self.stderr.write(f"Issued a {kind} API token for {username} (id {token.pk}). Send it as:")
        self.stderr.write(f"  Authorization: Token {key}")
        self.stdout.write(key)
