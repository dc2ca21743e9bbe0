"""A request id on the answer and on every log line of the request; JSON log lines."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from casecenter.ops.requestlog import JsonFormatter, RequestIdFilter, request_id


@pytest.fixture
def json_lines():
    """What the ``django.request`` logger writes, through the JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_a_log_line_of_a_request_carries_the_id_its_answer_names(db, json_lines):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    rid = response["X-Request-ID"]
    assert len(rid) == 32 and int(rid, 16) >= 0
    [line] = [line for line in json_lines() if "Not Found" in line["message"]]
    assert line["request_id"] == rid
    assert line["level"] == "WARNING" and line["logger"] == "django.request"
    assert line["status_code"] == 404
    assert request_id.get() == "-"  # the id does not outlive its request


def test_each_request_gets_its_own_id(db):
    assert Client().get("/healthz")["X-Request-ID"] != Client().get("/healthz")["X-Request-ID"]


def test_a_proxys_request_id_is_kept_only_from_a_trusted_proxy(db, settings):
    given = {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_REQUEST_ID": "edge-4f1c2a"}
    assert Client(**given).get("/healthz")["X-Request-ID"] != "edge-4f1c2a"
    settings.CASECENTER_TRUSTED_PROXIES = ["192.0.2.1"]
    assert Client(**given).get("/healthz")["X-Request-ID"] == "edge-4f1c2a"
    forged = {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_REQUEST_ID": 'x" level=CRITICAL\n'}
    assert Client(**forged).get("/healthz")["X-Request-ID"] != forged["HTTP_X_REQUEST_ID"]


def test_the_request_id_follows_a_request_served_asynchronously(db, json_lines):
    response = async_to_sync(AsyncClient().get)("/no-such-page/")
    rid = response["X-Request-ID"]
    assert [line["request_id"] for line in json_lines() if "Not Found" in line["message"]] == [rid]


def test_a_json_line_keeps_the_extra_fields_and_the_traceback():
    record = logging.LogRecord(
        "casecenter.test", logging.ERROR, __file__, 1, "failed %s", ("x",), None
    )
    record.stay = 17
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed x" and line["stay"] == 17
    assert line["request_id"] == "-"
    assert "ValueError: boom" in line["exc_info"]
    assert line["time"].endswith("+00:00")


def test_the_log_format_setting_makes_the_console_write_json(tmp_path):
    script = (
        "import logging, django; django.setup(); "
        "logging.getLogger('casecenter.sms').info('sent to %s', 'x')"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "casecenter.settings",
        "CASECENTER_DATA_DIR": str(tmp_path),
        "CASECENTER_LOG_FORMAT": "json",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    line = json.loads(done.stderr.strip().splitlines()[-1])
    assert (line["logger"], line["message"], line["request_id"]) == (
        "casecenter.sms",
        "sent to x",
        "-",
    )
    env["CASECENTER_LOG_FORMAT"] = "text"
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert done.stderr.strip().endswith("INFO casecenter.sms: sent to x")
