"""Schemathesis over the live API, as an integrator runs it: zero failures.

The application is served by the test's live server on the suite's database
(SQLite, then PostgreSQL in `./run test`), loaded with a small demo world, and
the schemathesis CLI runs against its /api/openapi.json with every check, for
three roles: a case officer (every phase, the coverage phase's boundary and
negative cases included), an administrator and a prosecutor (fuzzing and the
stateful phase). A fixed seed and a bounded number of examples keep the cases
the same on every run; tests/api/schemathesis.toml is the one place where what
schemathesis cannot judge is set aside, with the reasons.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from casecenter.accounts.models import User
from casecenter.accounts.services import issue_api_token

pytestmark = pytest.mark.django_db(transaction=True)

CONFIG = Path(__file__).with_name("schemathesis.toml")
#: username in the demo world → the phases its run takes
RUNS = {
    "zhangwei": "examples,coverage,fuzzing,stateful",  # case officer, station 中关村
    "admin": "examples,fuzzing,stateful",  # administrator
    "zhoujian": "examples,fuzzing,stateful",  # prosecutor (a partner organisation)
}
#: examples per operation in the fuzzing phase (the coverage phase's are its own)
EXAMPLES = {
    "zhangwei": 4,
    "admin": 3,
    "zhoujian": 3,
}


def schemathesis() -> str:
    found = Path(sys.executable).with_name("schemathesis")
    return str(found) if found.exists() else shutil.which("schemathesis") or "schemathesis"


@pytest.fixture
def world(live_server):
    call_command("demo", "--no-serve", "--cases", "4", verbosity=0)
    return live_server


def run_as(live_server, username: str, phases: str, reports: Path) -> subprocess.CompletedProcess:
    _, token = issue_api_token(User.objects.get(username=username), name="schemathesis")
    return subprocess.run(  # noqa: S603 - our own command line
        [
            schemathesis(),
            "--config-file",
            str(CONFIG),
            "run",
            f"{live_server.url}/api/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "all",
            "--phases",
            phases,
            "--max-examples",
            str(EXAMPLES[username]),
            "--report",
            "junit",
            "--report-junit-path",
            str(reports / f"{username}.xml"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""},
        timeout=1200,
        check=False,
    )


def check_as(live_server, username: str, reports: Path) -> None:
    result = run_as(live_server, username, RUNS[username], reports)
    assert result.returncode == 0, f"schemathesis as {username}:\n{result.stdout}\n{result.stderr}"
    assert "Tested:" in result.stdout  # it did run the operations


# One class per role: pytest-xdist (--dist loadscope) may give each to another worker.


class TestAsCaseOfficer:
    def test_schemathesis_finds_no_failure(self, world, tmp_path):
        check_as(world, "zhangwei", tmp_path)


class TestAsAdministrator:
    def test_schemathesis_finds_no_failure(self, world, tmp_path):
        check_as(world, "admin", tmp_path)


class TestAsProsecutor:
    def test_schemathesis_finds_no_failure(self, world, tmp_path):
        check_as(world, "zhoujian", tmp_path)
