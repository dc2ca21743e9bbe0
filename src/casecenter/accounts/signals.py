"""The one place where logins, failed logins, lockouts and logouts are noted.

Django sends ``user_logged_in``, ``user_login_failed`` and ``user_logged_out``
for the login form, the admin's login and the API's token endpoint alike;
django-axes sends ``user_locked_out``. Each receiver hands over to a service
of :mod:`casecenter.accounts.services`, which writes the audit entry. The
password never reaches them (Django cleanses the credentials first, and only
the username is read).
"""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.http import HttpRequest

from casecenter.accounts import services
from casecenter.accounts.lockout import client_address
from casecenter.accounts.models import User
from casecenter.accounts.session_policy import start_session


def _via(request: HttpRequest | None) -> str:
    path = getattr(request, "path", "") or ""
    if path.startswith("/admin/"):
        return "admin"
    if path.startswith("/api/"):
        return "api"
    return "web"


def _address(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return getattr(request, "axes_ip_address", None) or client_address(request)


@receiver(user_logged_in, dispatch_uid="casecenter.accounts.logged_in")
def _logged_in(sender, request, user, **kwargs) -> None:
    via = kwargs.get("via") or _via(request)
    if request is not None and via != "api":
        start_session(request)
    services.note_login(user, via=via, address=_address(request))


@receiver(user_login_failed, dispatch_uid="casecenter.accounts.login_failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str((credentials or {}).get("username") or "")
    # refused unchecked by axes' backend: flagged locked before any failure was
    # counted (the failure that locks is counted first, whichever receiver runs first)
    refused = bool(getattr(request, "axes_locked_out", False)) and (
        getattr(request, "axes_failures_since_start", None) is None
    )
    services.note_login_failed(
        username, via=_via(request), address=_address(request), refused=refused
    )


@receiver(user_locked_out, dispatch_uid="casecenter.accounts.locked_out")
def _locked_out(sender, request, username, ip_address, **kwargs) -> None:
    services.note_lockouts(username, ip_address, via=_via(request))


@receiver(user_logged_out, dispatch_uid="casecenter.accounts.logged_out")
def _logged_out(sender, request, user, **kwargs) -> None:
    """Logging out ends the user's sessions everywhere, not only this one."""
    if user is not None and user.pk is not None:
        services.end_all_sessions(user, user, reason="logout")


@receiver(pre_save, sender=User, dispatch_uid="casecenter.accounts.user_disabled")
def _user_disabled(sender, instance: User, **kwargs) -> None:
    services.revoke_tokens_of_disabled(instance)
