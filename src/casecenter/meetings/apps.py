from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "casecenter.meetings"
    label = "meetings"
    verbose_name = "远程律师会见"
