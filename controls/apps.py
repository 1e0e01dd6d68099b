"""Load every module of the package when Django starts, so a new control or object module registers itself."""
import importlib
import pkgutil

from django.apps import AppConfig


class ControlsConfig(AppConfig):
    name = "controls"
    verbose_name = "Control and object types"

    def ready(self) -> None:
        package = importlib.import_module(self.name)
        for module in pkgutil.iter_modules(package.__path__):
            if module.name != "apps":
                importlib.import_module(f"{self.name}.{module.name}")
