"""A command that needs no system checks starts without importing the API, ninja,
the apps' services or the heavy libraries (docs/operations.md, "Start-up time").

Each test starts a fresh interpreter, as the ``casecenter`` command does, and
looks at what it imported: an eager import added back to a ``models.py``, an
``AppConfig.ready`` or a command's module fails here. How long start-up takes is
``bench/cli_startup.py``'s business, not a test's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

#: what starting Django must not import: the API and ninja (and pydantic) come
#: with the URLconf, the services with the first request or command that needs them
NOT_AT_SETUP = [
    "casecenter.urls",
    "casecenter.api",
    "ninja",
    "pydantic",
    "casecenter.law",
    "casecenter.supervision.services",
    "casecenter.custody.rules",
    "casecenter.portal.services",
    "casecenter.dossiers.services",
    "casecenter.exchange.services",
    "casecenter.fasttrack.services",
    "PIL",
    "cryptography",
]

#: commands that start at once: no system checks (which import the URLconf)
QUICK_COMMANDS = ["audit", "law", "package", "totp", "resetpassword", "unlock", "simulate"]

#: what those commands must not import either, whatever their own work needs
NOT_IN_QUICK_COMMANDS = ["casecenter.urls", "casecenter.api", "ninja", "pydantic"]

CHILD = """
import json, sys
import django
django.setup()
imported_at_setup = sorted(sys.modules)

from django.core.management import ManagementUtility, get_commands, load_command_class

ManagementUtility(["casecenter", "help"]).execute()  # the list of commands
commands = get_commands()
checks = {}
for name in json.loads(sys.argv[1]):
    checks[name] = load_command_class(commands[name], name).requires_system_checks
print(json.dumps({"setup": imported_at_setup, "commands": sorted(sys.modules), "checks": checks}))
"""


@pytest.fixture(scope="module")
def started(tmp_path_factory) -> dict:
    """Start Django and load the quick commands in a fresh interpreter: what it
    imported after ``django.setup()`` and after the commands, and their checks."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "casecenter.settings",
        "CASECENTER_DATA_DIR": str(tmp_path_factory.mktemp("data")),
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(QUICK_COMMANDS)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def imported(modules: list[str], names: list[str]) -> list[str]:
    """Those of ``names`` that are among ``modules`` (a package or any of its modules)."""
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]


def test_starting_django_imports_no_api_no_services_and_no_heavy_library(started):
    assert "casecenter.accounts.models" in started["setup"]  # it did start
    assert imported(started["setup"], NOT_AT_SETUP) == []


def test_quick_commands_skip_the_system_checks_and_never_import_the_api(started):
    assert started["checks"] == {name: [] for name in QUICK_COMMANDS}
    assert "casecenter.calendars.management.commands.law" in started["commands"]
    assert imported(started["commands"], NOT_IN_QUICK_COMMANDS) == []
