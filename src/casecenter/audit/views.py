"""The witness endpoint: ``POST /witness/add-checkpoint`` (C2SP tlog-witness, plain text).

A machine endpoint, not a page and not part of the JSON API: a log's operator
sends checkpoints here, authenticated by the log's signature on them alone
(no session, hence no CSRF token). The work is
:func:`casecenter.audit.witness_server.add_checkpoint`; this parses the HTTP
request and renders its answer.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def add_checkpoint(request: HttpRequest) -> HttpResponse:
    from casecenter.audit import witness_server

    limit = witness_server.MAX_BODY
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit():
        return _text(400, "bad Content-Length")
    body = request.read(limit + 1) if int(declared) <= limit else b""
    if int(declared) > limit or len(body) > limit:
        return _text(413, f"the body is larger than {limit} bytes")
    answer = witness_server.add_checkpoint(body, client=request.META.get("REMOTE_ADDR", ""))
    return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)


def _text(status: int, message: str) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")
