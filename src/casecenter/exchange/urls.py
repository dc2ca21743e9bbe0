from django.urls import path

from casecenter.exchange import views

urlpatterns = [
    path("", views.hub, name="exchange-hub"),
    path("verify/", views.verify_file, name="exchange-verify"),
    path("packages/<id:pk>/", views.package_detail, name="package-detail"),
    path("packages/<id:pk>/zip/", views.package_zip, name="package-zip"),
    path(
        "packages/<id:pk>/people/<int:index>/reveal/",
        views.package_reveal,
        name="package-reveal",
    ),
    path("packages/<id:pk>/receive/", views.receive, name="package-receive"),
    path("packages/<id:pk>/accept/", views.accept, name="package-accept"),
    path("packages/<id:pk>/return/", views.return_package, name="package-return"),
    path("packages/<id:pk>/verify/", views.verify_again, name="package-verify"),
    path("packages/<id:pk>/resend/", views.resend, name="package-resend"),
    path("cases/<id:case_id>/send/", views.send_from_case, name="package-send"),
    path("matters/<id:pk>/", views.matter_detail, name="matter-detail"),
    path("matters/<id:pk>/people/<int:index>/reveal/", views.matter_reveal, name="matter-reveal"),
    path("matters/<id:pk>/lawyer/", views.matter_lawyer, name="matter-lawyer"),
    path("matters/<id:pk>/meeting/", views.matter_meeting, name="matter-meeting"),
    path("matters/<id:pk>/indict/", views.matter_indict, name="matter-indict"),
    path("matters/<id:pk>/hearing/", views.matter_hearing, name="matter-hearing"),
    path("matters/<id:pk>/judgment/", views.matter_judgment, name="matter-judgment"),
    path("matters/<id:pk>/conclude/", views.matter_conclude, name="matter-conclude"),
]
