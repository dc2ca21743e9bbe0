from django.urls import path

from casecenter.cases import views

urlpatterns = [
    path("", views.case_list_view, name="case-list"),
    path("new/", views.case_new, name="case-new"),
    path("<int:pk>/", views.case_detail, name="case-detail"),
    path("<int:pk>/transition/", views.case_transition, name="case-transition"),
    path("<int:pk>/parties/", views.case_add_party, name="case-add-party"),
    path("<int:pk>/assign/", views.case_assign, name="case-assign"),
    path("<int:pk>/break-glass/", views.case_break_glass, name="case-break-glass"),
]
