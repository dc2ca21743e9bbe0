from django.urls import path

from casecenter.custody import views

urlpatterns = [
    path("", views.live_map, name="custody-map"),
    path("enter/<id:party_id>/", views.enter, name="custody-enter"),
    path("stays/<id:pk>/", views.stay_detail, name="custody-stay"),
    path("stays/<id:pk>/exit/", views.stay_exit, name="custody-exit"),
    path(
        "stays/<id:pk>/belongings/<id:belonging_id>/photo/",
        views.belonging_photo,
        name="custody-belonging-photo",
    ),
    path(
        "stays/<id:pk>/belongings/<id:belonging_id>/photo/file/",
        views.belonging_photo_file,
        name="custody-belonging-photo-file",
    ),
    path("stays/<id:pk>/sessions/", views.session_open, name="custody-session-open"),
    path(
        "stays/<id:pk>/sessions/<id:session_id>/close/",
        views.session_close,
        name="custody-session-close",
    ),
]
