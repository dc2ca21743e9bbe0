"""Browser hardening headers on every page and API response, enumerated from the URL map
(a new route gets the same checks without being listed here)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

#: routes whose answer never ends (the alert stream) are checked by their own test
ENDLESS = {"events"}


def routes(patterns=None, prefix: str = ""):
    """Every (route, name) of the URL map, includes followed; regex routes skipped."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        text = str(p.pattern)
        if text.startswith("^"):
            continue  # regex routes: the admin's, checked by their prefix below
        if isinstance(p, URLResolver):
            yield from routes(p.url_patterns, prefix + text)
        elif isinstance(p, URLPattern):
            yield prefix + text, p.name


def url_of(route: str, pk: int) -> str:
    def value(match):
        converter = match.group(1) or "str"
        return str(pk) if converter in {"id", "int"} else "x"

    return "/" + re.sub(r"<(?:(\w+):)?\w+>", value, route)


def all_urls(pk: int) -> list[str]:
    urls = {url_of(route, pk) for route, name in routes() if name not in ENDLESS}
    return sorted(urls | {"/admin/", "/api/docs", "/api/openapi.json"})


def assert_hardened(response, url: str) -> None:
    csp = response.get("Content-Security-Policy", "")
    directives = {
        d.strip().split(" ")[0]: d.strip().split(" ")[1:] for d in csp.split(";") if d.strip()
    }
    assert csp, f"{url}: no Content-Security-Policy"
    if directives.get("sandbox") is not None and "default-src" in directives:
        assert directives["default-src"] == ["'none'"], url
    elif "sandbox" not in directives:
        assert directives["default-src"] == ["'self'"], url
        assert directives["script-src"] == ["'self'"], f"{url}: {csp}"
        assert directives["style-src"] == ["'self'"], f"{url}: {csp}"
        assert directives["frame-ancestors"] == ["'none'"], url
        assert directives["object-src"] == ["'none'"] and directives["base-uri"] == ["'none'"]
        assert directives["form-action"] == ["'self'"], url
    assert response["X-Content-Type-Options"] == "nosniff", url
    assert response["Referrer-Policy"] == "same-origin", url
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", url
    assert "camera=()" in response["Permissions-Policy"], url
    assert response["X-Frame-Options"] == "DENY", url


def test_every_page_and_api_route_is_hardened_and_never_stored_for_a_logged_in_user(
    officers, make_case
):
    case = make_case()
    client = Client()
    client.force_login(officers["lead"])
    checked = 0
    for url in all_urls(case.pk):
        response = client.get(url)
        assert_hardened(response, url)
        assert "no-store" in response.get("Cache-Control", ""), f"{url}: may be stored"
        checked += 1
    assert checked > 100  # the whole map, not a hand-picked few


def test_public_and_api_answers_are_never_stored_even_without_a_login(db):
    anonymous = Client()
    for url in ["/p/", "/p/case/", "/p/t/nothing/", "/api/cases/1", "/api/openapi.json", "/admin/"]:
        response = anonymous.get(url)
        assert_hardened(response, url)
        assert "no-store" in response["Cache-Control"], url
    login = anonymous.get("/login/")
    assert_hardened(login, "/login/")


def test_static_files_stay_cacheable(db):
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    handler = StaticFilesHandler(WSGIHandler())
    request = RequestFactory().get("/static/casecenter/page.js")
    response = handler.serve(request)
    assert "no-store" not in response.get("Cache-Control", "")


def test_no_template_has_inline_script_style_or_event_handlers():
    """What the policy would refuse in a browser, refused here first: an inline
    <script>, a <style> block, a style="" attribute, an on…= handler, a javascript: URL.
    (Generated dossier documents are served under their own sandbox policy.)"""
    from pathlib import Path

    import casecenter

    root = Path(casecenter.__file__).parent
    pattern = re.compile(
        r"(?is)<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>"
        r"|<style\b|\sstyle\s*=|<[a-z][^>]*\son[a-z]+\s*=|javascript:"
    )
    found = []
    for path in root.rglob("*.html"):
        if "dossiers/generated" in str(path):
            continue
        for match in pattern.finditer(path.read_text()):
            found.append(f"{path.relative_to(root)}: {match.group(0)[:60]}")
    assert found == []


def _settings_with(**env) -> dict:
    code = (
        "import json; from casecenter import settings as s; "
        "print(json.dumps([s.SECURE_HSTS_SECONDS, getattr(s, 'SECURE_PROXY_SSL_HEADER', None)]))"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CASECENTER_H")}
    environment.pop("SECURE_COOKIES", None)
    environment.pop("CASECENTER_TRUSTED_PROXIES", None)
    environment.update(env)
    out = subprocess.run(  # noqa: S603 - our own interpreter on our own settings module
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_hsts_for_a_year_over_https_and_never_over_plain_http():
    assert _settings_with() == [0, None]
    assert _settings_with(CASECENTER_HTTPS="1") == [31536000, None]
    assert _settings_with(SECURE_COOKIES="1", CASECENTER_HSTS_SECONDS="600") == [600, None]
    # X-Forwarded-Proto is believed only behind a named proxy
    assert _settings_with(CASECENTER_HTTPS="1", CASECENTER_TRUSTED_PROXIES="10.0.0.2") == [
        31536000,
        ["HTTP_X_FORWARDED_PROTO", "https"],
    ]


def test_an_https_answer_carries_hsts(settings, db):
    settings.SECURE_HSTS_SECONDS = 31536000
    response = Client().get("/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in Client().get("/login/")


def test_an_uploaded_photo_is_served_in_a_sandbox_and_never_stored(db):
    import io

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from PIL import Image

    from casecenter import images

    data = io.BytesIO()
    Image.new("RGB", (4, 4)).save(data, format="PNG")
    name = default_storage.save("tests/photo.png", ContentFile(data.getvalue()))

    class Stored:
        def open(self, mode):
            return default_storage.open(name, mode)

    response = images.response(Stored(), "image/png")
    assert response["Content-Security-Policy"].startswith("sandbox; default-src 'none'")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    response.close()
    default_storage.delete(name)
