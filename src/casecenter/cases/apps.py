from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "casecenter.cases"
    label = "cases"
