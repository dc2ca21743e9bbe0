from django.contrib.admin.apps import AdminConfig


class CaseCenterAdminConfig(AdminConfig):
    """django.contrib.admin with our site as ``admin.site`` (import-safe: the site is
    named by its dotted path and built once the models are ready)."""

    default_site = "casecenter.adminsite.site.CaseCenterAdminSite"
