from django.urls import path

from casecenter.fasttrack import views

urlpatterns = [
    path("", views.dashboard, name="fasttrack-dashboard"),
    path("<id:pk>/", views.detail, name="fasttrack-detail"),
    path("stages/<id:pk>/", views.stage, name="fasttrack-stage"),
    path("cases/<id:case_id>/start/", views.start, name="fasttrack-start"),
    path("<id:pk>/legal-aid/", views.notify_legal_aid, name="fasttrack-legal-aid"),
    path("<id:pk>/submit/", views.submit, name="fasttrack-submit"),
    path("<id:pk>/abandon/", views.abandon, name="fasttrack-abandon"),
]
