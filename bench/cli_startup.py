"""Command-line start-up: how long a ``casecenter`` command takes before it does
anything, as JSON.

    .venv/bin/python bench/cli_startup.py [--runs 9]

Every figure is the wall time of a whole child process, from starting it to its
exit, on a throw-away SQLite database (a temporary ``CASECENTER_DATA_DIR``,
migrated before timing):

1. ``python``: ``python -c pass``, the baseline — the interpreter alone;
2. ``django_setup``: ``python -c "django.setup()"`` with casecenter's settings —
   every app's models and ``AppConfig.ready``;
3. ``help``: ``casecenter help`` — the set-up and the list of commands;
4. ``totp_help``: ``casecenter totp --help`` — the set-up and one command's
   module, which is what a cheap command costs before its own work;
5. ``law_id_number``: ``casecenter law id-number …`` — a command that needs no
   system checks and no database;
6. ``audit_tail``: ``casecenter audit tail`` — the last entries of the audit log
   (one query), with whatever system checks the command asks for;
7. ``check``: ``casecenter check`` — all of Django's system checks, which import
   the URLconf and with it the whole API, for comparison.

Each round runs every command once, in turn, so drift on a busy machine hits all
alike; ``--runs`` rounds. Reported per command: the median and the minimum wall
time in seconds, ``vs_python``, the median divided by the baseline's median, and
``cpu_median_s``, the median CPU time (user + system) of the process — steadier
than the wall time when other work shares the machine. Absolute numbers depend
on the machine; the ratios are the figures to watch (docs/operations.md,
"Start-up time").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import child_env

CASECENTER = str(Path(sys.executable).parent / "casecenter")
SETUP = "import django; django.setup()"

COMMANDS: dict[str, list[str]] = {
    "python": [sys.executable, "-c", "pass"],
    "django_setup": [sys.executable, "-c", SETUP],
    "help": [CASECENTER, "help"],
    "totp_help": [CASECENTER, "totp", "--help"],
    "law_id_number": [CASECENTER, "law", "id-number", "11010519491231002X"],
    "audit_tail": [CASECENTER, "audit", "tail"],
    "check": [CASECENTER, "check"],
}


def children_cpu() -> float:
    """CPU seconds (user + system) of the child processes waited for so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of ``command`` from its start to its exit (its output
    is discarded)."""
    cpu = children_cpu()
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started, children_cpu() - cpu


def bench(runs: int) -> dict:
    data_dir = tempfile.mkdtemp(prefix="cc-bench-cli-")
    try:
        env = child_env("sqlite", data_dir, "")
        subprocess.run([CASECENTER, "migrate", "-v0"], env=env, check=True)
        for command in COMMANDS.values():  # warm the page cache and the .pyc files
            run(command, env)
        times: dict[str, list[float]] = {name: [] for name in COMMANDS}
        cpu: dict[str, list[float]] = {name: [] for name in COMMANDS}
        for _ in range(runs):
            for name, command in COMMANDS.items():
                wall_s, cpu_s = run(command, env)
                times[name].append(wall_s)
                cpu[name].append(cpu_s)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    baseline = statistics.median(times["python"])
    return {
        "benchmark": "cli_startup",
        "runs": runs,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "results": {
            name: {
                "median_s": round(statistics.median(values), 4),
                "min_s": round(min(values), 4),
                "vs_python": round(statistics.median(values) / baseline, 1),
                "cpu_median_s": round(statistics.median(cpu[name]), 4),
            }
            for name, values in times.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="rounds of every command")
    args = parser.parse_args()
    print(json.dumps(bench(args.runs), indent=2))


if __name__ == "__main__":
    main()
