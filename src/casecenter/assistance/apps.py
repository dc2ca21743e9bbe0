from django.apps import AppConfig


class AssistanceConfig(AppConfig):
    name = "casecenter.assistance"
    label = "assistance"
    verbose_name = "三级响应"
