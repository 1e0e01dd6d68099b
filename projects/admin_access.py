"""What lets a project manager into the admin: staff status and one group holding every model permission of the
apps a manager works in. The one place that grants it; which projects they see is still their membership's role.
"""
from django.contrib.auth.models import Group, Permission
from django.db import transaction

# Every app whose admin pages a manager uses: projects, members, tasks, annotations and predictions; consensus
# scores; pre-labeling models and versions; export snapshots; background jobs.
MANAGER_ADMIN_APPS = ("projects", "quality", "ml", "exports", "workers")
MANAGERS_GROUP = "Project managers"


def managers_group() -> Group:
    """The managers' group, holding every permission of MANAGER_ADMIN_APPS as they are now (new models join)."""
    group, _ = Group.objects.get_or_create(name=MANAGERS_GROUP)
    group.permissions.set(Permission.objects.filter(content_type__app_label__in=MANAGER_ADMIN_APPS))
    return group


@transaction.atomic
def grant_manager_admin(user) -> None:
    """Let a project manager use the admin. It shows them only the projects they manage (and their rows)."""
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.groups.add(managers_group())


def refresh_managers_group(sender, **kwargs) -> None:
    """After migrate, give the managers' group the permissions of a manager app's new models. Runs after auth's
    own post_migrate receiver (auth is installed first), which has just created that app's permissions."""
    if sender.label not in MANAGER_ADMIN_APPS:
        return
    database = kwargs.get("using", "default")
    group = Group.objects.using(database).filter(name=MANAGERS_GROUP).first()
    if group is not None:
        group.permissions.add(*Permission.objects.using(database).filter(content_type__app_label=sender.label))
