from django.urls import path, re_path

from casecenter.property import storage_views, views

MOVES = "hand-over|store|move|check-out|return|transfer|dispose|appraisal|photo"

urlpatterns = [
    path("", views.item_list_view, name="property-items"),
    path("scan/", views.scan, name="property-scan"),
    path("items/<id:pk>/", views.item_detail, name="property-item"),
    path("items/<id:pk>/label/", views.item_label, name="property-label"),
    re_path(
        rf"^items/(?P<pk>[0-9]{{1,15}})/(?P<move>{MOVES})/$",
        views.item_move,
        name="property-move",
    ),
    path("appraisals/<id:pk>/result/", views.appraisal_result, name="property-appraisal-result"),
    path("photos/<id:pk>/", views.photo_file, name="property-photo"),
    path("register/<id:pk>/", views.item_register, name="property-register"),
    path("rooms/", storage_views.room_list, name="property-rooms"),
    path("rooms/<id:pk>/", storage_views.room_detail, name="property-room"),
    path("rooms/<id:pk>/labels/", storage_views.shelf_labels, name="property-shelf-labels"),
    path("rooms/<id:pk>/counts/", storage_views.count_list, name="property-counts"),
    path("shelves/<id:pk>/", storage_views.location_detail, name="property-location"),
    path("counts/<id:pk>/", storage_views.count_detail, name="property-count"),
    path("counts/<id:pk>/scan/", storage_views.count_scan, name="property-count-scan"),
    path("counts/<id:pk>/sign-off/", storage_views.count_sign_off, name="property-count-sign"),
]
