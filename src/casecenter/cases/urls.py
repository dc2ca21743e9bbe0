from django.urls import path

from casecenter.cases import views

urlpatterns = [
    path("", views.case_list_view, name="case-list"),
    path("new/", views.case_new, name="case-new"),
    path("<id:pk>/", views.case_detail, name="case-detail"),
    path("<id:pk>/transition/", views.case_transition, name="case-transition"),
    path("<id:pk>/parties/", views.case_add_party, name="case-add-party"),
    path("<id:pk>/assign/", views.case_assign, name="case-assign"),
    path("<id:pk>/break-glass/", views.case_break_glass, name="case-break-glass"),
    path(
        "<id:pk>/parties/<id:party_id>/contact/",
        views.case_party_contact,
        name="case-party-contact",
    ),
    path("break-glass/", views.break_glass_list, name="break-glass-list"),
    path("break-glass/<id:pk>/", views.break_glass_detail, name="break-glass-detail"),
]
