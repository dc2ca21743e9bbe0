from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter

from casecenter.portal import views as portal_views
from casecenter.web import views
from casecenter.web.converters import IdConverter

register_converter(IdConverter, "id")  # before the includes below use it

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    # logging out ends every session of the user (accounts.signals)
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("casecenter.accounts.urls")),
    path("incidents/", include("casecenter.incidents.urls")),
    path("cases/", include("casecenter.cases.urls")),
    path("p/", include("casecenter.portal.urls")),
    path(
        "cases/<id:case_id>/receipts/<id:party_id>/",
        portal_views.issue,
        name="portal-issue",
    ),
    path(
        "cases/<id:case_id>/messages/<id:message_id>/answer/",
        portal_views.answer,
        name="portal-answer",
    ),
    path("feedback/", portal_views.feedback, name="portal-feedback"),
    path("", include("casecenter.measures.urls")),
    path("", include("casecenter.supervision.urls")),
    path("property/", include("casecenter.property.urls")),
    path("custody/", include("casecenter.custody.urls")),
    path("", include("casecenter.dossiers.urls")),
    path("exchange/", include("casecenter.exchange.urls")),
    path("fast-track/", include("casecenter.fasttrack.urls")),
    path("meetings/", include("casecenter.meetings.urls")),
    path("assistance/", include("casecenter.assistance.urls")),
]
