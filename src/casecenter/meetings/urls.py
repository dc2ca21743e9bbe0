from django.urls import path

from casecenter.meetings import views

urlpatterns = [
    path("", views.meeting_list, name="meeting-list"),
    path("new/", views.new_booking, name="meeting-new"),
    path("<id:pk>/", views.booking_page, name="meeting-detail"),
    path("<id:pk>/confirm/", views.confirm, name="meeting-confirm"),
    path("<id:pk>/refuse/", views.refuse, name="meeting-refuse"),
    path("<id:pk>/cancel/", views.cancel, name="meeting-cancel"),
    path("<id:pk>/start/", views.start, name="meeting-start"),
    path("<id:pk>/end/", views.end, name="meeting-end"),
    path("<id:pk>/missed/", views.missed, name="meeting-missed"),
    path("lawyers/", views.lawyer_list, name="meeting-lawyers"),
    path("lawyers/<id:pk>/verify/", views.lawyer_verify, name="meeting-lawyer-verify"),
    path("lawyers/<id:pk>/refuse/", views.lawyer_refuse, name="meeting-lawyer-refuse"),
    path("lawyer/", views.lawyer_profile, name="meeting-lawyer-profile"),
    path("detainees/", views.detainee_list, name="meeting-detainees"),
    path("detainees/<id:pk>/release/", views.detainee_release, name="meeting-detainee-release"),
]
