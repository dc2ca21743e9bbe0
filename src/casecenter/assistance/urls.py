from django.urls import path

from casecenter.assistance import views

urlpatterns = [
    path("", views.assistance_list, name="assistance-list"),
    path("new/", views.assistance_new, name="assistance-new"),
    path("<id:pk>/", views.assistance_detail, name="assistance-detail"),
    path("<id:pk>/answer/", views.assistance_answer, name="assistance-answer"),
    path("<id:pk>/follow-up/", views.assistance_follow_up, name="assistance-follow-up"),
    path("<id:pk>/escalate/", views.assistance_escalate, name="assistance-escalate"),
    path("<id:pk>/close/", views.assistance_close, name="assistance-close"),
    path("<id:pk>/withdraw/", views.assistance_withdraw, name="assistance-withdraw"),
]
