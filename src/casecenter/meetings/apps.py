from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "casecenter.meetings"
    label = "meetings"
    verbose_name = "远程律师会见"

    def ready(self) -> None:
        from casecenter.supervision import subjects

        # a booking's lawyer.meeting clock ("booking:<id>") is shown on its page
        subjects.register("booking", "meeting-detail")
