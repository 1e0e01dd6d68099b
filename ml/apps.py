from django.apps import AppConfig


class MLConfig(AppConfig):
    name = "ml"
    verbose_name = "Model-assisted pre-labeling"

    def ready(self) -> None:
        from projects import events

        from . import hooks

        events.annotation_submitted.subscribe(hooks.annotation_submitted, during=True)
        events.tasks_imported.subscribe(hooks.tasks_imported)
