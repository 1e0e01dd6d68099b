"""`python manage.py grant_manager_admin USERNAME...`: let project managers into the admin (staff status and the
managers' group). What they see there is still limited to the projects they manage."""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from projects.admin_access import MANAGERS_GROUP, grant_manager_admin


class Command(BaseCommand):
    help = "Let the named users into the admin as project managers."

    def add_arguments(self, parser) -> None:
        parser.add_argument("usernames", nargs="+")

    def handle(self, *args, usernames: list[str], **options) -> None:
        users = {user.username: user for user in get_user_model().objects.filter(username__in=usernames)}
        missing = [name for name in usernames if name not in users]
        if missing:
            raise CommandError(f"No such user: {', '.join(missing)}")
        for name in usernames:
            grant_manager_admin(users[name])
            self.stdout.write(f"{name}: staff, in the group {MANAGERS_GROUP!r}")
