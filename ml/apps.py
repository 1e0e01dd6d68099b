from django.apps import AppConfig


class MLConfig(AppConfig):
    name = "ml"
    verbose_name = "Model-assisted pre-labeling"
