from django.urls import path

from casecenter.dossiers import views

urlpatterns = [
    path("cases/<id:pk>/dossier/", views.dossier_page, name="case-dossier"),
    path("cases/<id:pk>/dossier/documents/", views.add_document, name="dossier-add-document"),
    path("cases/<id:pk>/dossier/generate/", views.generate, name="dossier-generate"),
    path("cases/<id:pk>/dossier/loans/", views.lend, name="dossier-lend"),
    path("dossiers/documents/<id:pk>/file/", views.document_file, name="dossier-file"),
    path("dossiers/documents/<id:pk>/versions/", views.add_version, name="dossier-add-version"),
    path("dossiers/documents/<id:pk>/review/", views.review, name="dossier-review"),
    path("dossiers/loans/<id:pk>/return/", views.return_loan, name="dossier-return"),
]
