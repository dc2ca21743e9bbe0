from django.urls import path

from casecenter.portal import views

urlpatterns = [
    path("", views.find, name="portal-find"),
    path("t/<str:token>/", views.by_token, name="portal-token"),
    path("case/", views.case, name="portal-case"),
    path("case/<id:receipt_id>/rate/", views.rate, name="portal-rate"),
    path("case/<id:receipt_id>/message/", views.message, name="portal-message"),
]
