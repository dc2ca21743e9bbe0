"""ASGI entry point (live push over SSE comes through here)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casecenter.settings")
application = get_asgi_application()
