from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "casecenter.portal"
    label = "portal"
    verbose_name = "Public case progress (办案进度查询)"

    def ready(self) -> None:
        from casecenter.portal import subscribers  # noqa: F401 - registers handlers
