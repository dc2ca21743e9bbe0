"""The admin site: behind MFA, movable or switched off, every change audited.

``apps.CaseCenterAdminConfig`` makes :class:`site.CaseCenterAdminSite` Django's
default ``admin.site``, so every ``@admin.register`` of every app (and of
django-otp and django.contrib.auth) lands on it.
"""
