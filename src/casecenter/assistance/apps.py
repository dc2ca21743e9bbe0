from django.apps import AppConfig


class AssistanceConfig(AppConfig):
    name = "casecenter.assistance"
    label = "assistance"
    verbose_name = "三级响应"

    def ready(self) -> None:
        from casecenter.supervision import subjects

        # a request's clocks ("assistance:<id>") open on the request's page
        subjects.register("assistance", "assistance-detail")
