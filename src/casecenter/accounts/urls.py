from django.urls import path

from casecenter.accounts import views

urlpatterns = [
    path("", views.account_page, name="account"),
    path("password/", views.password_change, name="account-password"),
    path("tokens/<id:pk>/revoke/", views.token_revoke, name="account-token-revoke"),
]
