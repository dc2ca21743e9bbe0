from django.urls import path, re_path

from casecenter.supervision import views

urlpatterns = [
    path("alerts/", views.alert_list_view, name="alert-list"),
    path("alerts/acknowledge/", views.alert_acknowledge_many, name="alert-acknowledge-many"),
    path("alerts/<id:pk>/", views.alert_detail, name="alert-detail"),
    path("alerts/<id:pk>/acknowledge/", views.alert_acknowledge, name="alert-acknowledge"),
    path("alerts/<id:pk>/resolve/", views.alert_resolve, name="alert-resolve"),
    path("deadlines/", views.deadline_review_view, name="deadline-review"),
    path("deadlines/<id:pk>/extend/", views.deadline_extend, name="deadline-extend"),
    path("rules/", views.rule_list, name="rule-list"),
    re_path(r"^rules/(?P<code>[a-z0-9_.]{1,60})/$", views.rule_edit, name="rule-edit"),
    path("events/", views.events, name="events"),
]
