from django.apps import AppConfig


class FastTrackConfig(AppConfig):
    name = "casecenter.fasttrack"
    label = "fasttrack"
    verbose_name = "48小时速裁"
