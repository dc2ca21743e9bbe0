from django.urls import path

from casecenter.incidents import views

urlpatterns = [
    path("", views.incident_list_view, name="incident-list"),
    path("new/", views.incident_new, name="incident-new"),
    path("<id:pk>/", views.incident_detail, name="incident-detail"),
    path("<id:pk>/convert/", views.incident_convert, name="incident-convert"),
    path("<id:pk>/close/", views.incident_close, name="incident-close"),
    path("<id:pk>/reveal-phone/", views.incident_reveal_phone, name="incident-reveal-phone"),
]
