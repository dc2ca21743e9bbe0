from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "casecenter.measures"
    label = "measures"
