"""``casecenter export_openapi_schema [--output FILE]``: django-ninja's own command,
the API's OpenAPI document as JSON.

ninja is not an installed app (settings.NINJA_DIR says why), so its commands are
not found on their own: this one is offered here, unchanged.
"""

from ninja.management.commands.export_openapi_schema import Command

__all__ = ["Command"]
