from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "Labeling projects"

    def ready(self) -> None:
        from .admin_access import refresh_managers_group  # models are loaded only once the registry is ready

        post_migrate.connect(refresh_managers_group, dispatch_uid="projects.refresh_managers_group")
