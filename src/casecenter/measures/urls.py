from django.urls import path

from casecenter.measures import views

urlpatterns = [
    path("cases/<id:pk>/measures/", views.measure_start, name="measure-start"),
    path("measures/<id:pk>/moments/", views.measure_moment, name="measure-moment"),
    path("measures/<id:pk>/end/", views.measure_end, name="measure-end"),
]
