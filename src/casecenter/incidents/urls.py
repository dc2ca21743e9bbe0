from django.urls import path

from casecenter.incidents import views

urlpatterns = [
    path("", views.incident_list_view, name="incident-list"),
    path("new/", views.incident_new, name="incident-new"),
    path("<int:pk>/", views.incident_detail, name="incident-detail"),
    path("<int:pk>/convert/", views.incident_convert, name="incident-convert"),
    path("<int:pk>/close/", views.incident_close, name="incident-close"),
]
