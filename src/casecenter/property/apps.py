from django.apps import AppConfig


class PropertyConfig(AppConfig):
    name = "casecenter.property"
    label = "property"
    verbose_name = "Property (涉案财物)"

    def ready(self) -> None:
        from casecenter.property import subscribers  # noqa: F401 - registers handlers
