"""Public case-progress page (办案进度查询) and case detail at size: requests per second.

    .venv/bin/python bench/portal.py [--db postgres|sqlite] [--cases N] [--reuse]
        [--server serve|runserver] [--workers N] [--connections 32] [--seconds 5]
        [--rounds 3] [--conn-max-age S] [--explain]

Issue 6, item 8 and issue 17: public page requests per second against the
trivial ``/api/health`` endpoint of the same server in the same run, and p99
latency at 32 connections, on PostgreSQL with 1,000,000 cases loaded; the same
for an officer's case detail through the API (``GET /api/cases/{id}`` with a
bearer token, a case the officer is assigned to: need-to-know and its audit
entry included).

1. ``load``: the throw-away database (PostgreSQL ``casecenter_bench_portal``,
   or a SQLite file) is migrated and filled, by ``INSERT … SELECT`` over a
   number series, with N cases of 20 stations spread over six years: each with
   its lead officer, a reporter (person, party, receipt), a timeline of 3 to 7
   events along the real workflow, and for a quarter of them a suspect held
   under criminal detention (measure and its events). The loader fills every
   column it does not know with the field's default, so a new column does not
   break it. ``--reuse`` keeps a database that already holds N cases: loading a
   million takes minutes.
2. ``world``: a few cases made through the services as an officer makes them
   (accept, assign a partner, add a reporter and a suspect, file, investigate,
   detain), a receipt for each through ``portal.services.issue_receipt``, and
   an API token of the lead officer (``accounts.services.issue_api_token``).
3. ``http``: the production server (``casecenter serve``: uvicorn worker
   processes, a psycopg pool on PostgreSQL; ``--workers``, default one per
   CPU), or ``--server runserver`` (threaded, one process), and an asyncio
   client holding 32 keep-alive connections, each from its own loopback
   address (127.1.x.y: the portal throttles token opens per client address)
   with its own browser session: it opens one receipt's QR link once, then
   asks for ``/p/case/`` over and over. The case-detail rounds ask
   ``/api/cases/{id}`` on the same connections with the officer's bearer
   token and no cookie, as an API client does. Rounds of the trivial endpoint,
   of the public page and of the case detail alternate on the same
   connections, so drift hits all alike. Latency is from sending a request to
   its last byte, at the client. The client acknowledges at once
   (``TCP_QUICKACK``): ``runserver`` writes a response in several small pieces
   with Nagle's algorithm on, and a delayed ACK would add ~40 ms to every
   keep-alive response, which the trivial endpoint would then measure instead
   of the server.

Prints JSON: requests per second of each round, their means, the ratios
public/trivial and detail/trivial (of the means, and the median of each round
against the trivial round before it), p50/p99 latency, the load time, and one
page view's and one case detail's cost measured in-process (SQL queries,
median wall and database milliseconds; ``--explain`` prints the page's query
plans). ``--conn-max-age`` serves runserver with persistent database
connections, to see what opening one per request costs.
Absolute numbers depend on the machine and on what else runs on it (the load
average at the start is reported); the ratio is the figure to watch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (
    ROOT,
    child_env,
    free_port,
    percentile,
    pg_admin,
    reset_postgres,
    run_child,
    wait_up,
)

PG_NAME = "casecenter_bench_portal"
BIN = Path(sys.executable).parent
DEFAULT_CASES = {"postgres": 1_000_000, "sqlite": 100_000}
STATIONS = 20
CHUNK = 100_000  # cases per INSERT round (one transaction each)
DAY = 86_400
CRIMINAL, ADMINISTRATIVE = "i % 3 <> 0", "i % 3 = 0"
STAGE = "i % 8"  # how far along its path a case is: 0 accepted … 4+ closed
#: Each kind's path: (transition, from, to, days after acceptance); step k is taken
#: when the stage is at least k. Closed cases have long passed the portal's expiry.
PATHS = {
    CRIMINAL: [
        ("file", "accepted", "filed", 2),
        ("start_investigation", "filed", "investigating", 3),
        ("transfer_for_prosecution", "investigating", "transferred", 60),
        ("close", "transferred", "closed", 90),
    ],
    ADMINISTRATIVE: [
        ("start_investigation", "accepted", "investigating", 1),
        ("decide", "investigating", "decided", 20),
        ("close", "decided", "closed", 30),
    ],
}
DETAINED = f"{CRIMINAL} AND {STAGE} >= 2 AND i % 2 = 0"  # a suspect, detained on day 3
PROFILE_VIEWS = 21  # page views timed in-process, one at a time (the median is reported)
CATEGORIES = ["theft", "fraud", "injury", "assault", "quarrel", "damage", "dispute", "drugs"]


# --- child steps (run with the benchmark database's environment) -----------------


class Sql:
    """The few expressions that differ between PostgreSQL and SQLite."""

    def __init__(self, vendor: str) -> None:
        self.pg = vendor == "postgresql"

    def insert(self, table: str, columns: list, exprs: list, lo: int, hi: int, where: str) -> str:
        head = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(exprs)}"
        if self.pg:
            return f"{head} FROM generate_series({lo}, {hi}) AS s(i) WHERE {where}"
        series = f"s(i) AS (SELECT {lo} UNION ALL SELECT i + 1 FROM s WHERE i < {hi})"
        return f"WITH RECURSIVE {series} {head} FROM s WHERE {where}"

    def ts(self, seconds: str) -> str:
        return f"to_timestamp({seconds})" if self.pg else f"datetime({seconds}, 'unixepoch')"

    def year(self, seconds: str) -> str:
        if self.pg:
            local = f"to_timestamp({seconds}) AT TIME ZONE 'Asia/Shanghai'"
            return f"CAST(extract(year FROM {local}) AS integer)"
        return f"CAST(strftime('%Y', {seconds}, 'unixepoch', '+8 hours') AS INTEGER)"

    def hex64(self) -> str:
        return "md5('a' || i) || md5('b' || i)" if self.pg else "lower(hex(randomblob(32)))"

    def json(self, value: object) -> str:
        text = quoted(json.dumps(value, ensure_ascii=False))
        return f"CAST({text} AS jsonb)" if self.pg else text


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def default_sql(field, sql: Sql) -> str:
    """The SQL literal a row gets for a column the loader does not set."""
    if field.null:
        return "NULL"
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return "CURRENT_TIMESTAMP"
    if field.has_default() or field.empty_strings_allowed:
        value = field.get_default()
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, str):
            return quoted(value)
        if isinstance(value, dict | list):
            return sql.json(value)
    raise ValueError(f"{field.model.__name__}.{field.name}: the loader needs a value for it")


def insert(cursor, sql: Sql, model, values: dict[str, str], lo: int, hi: int, where="TRUE"):
    """One ``INSERT … SELECT`` of ``model`` rows, one per ``i`` in lo..hi meeting ``where``."""
    from django.db import connection

    fields = model._meta.concrete_fields
    unknown = set(values) - {f.name for f in fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no field {sorted(unknown)}")
    columns, exprs = [], []
    for f in fields:
        if f.name in values or not f.primary_key:
            columns.append(connection.ops.quote_name(f.column))
            exprs.append(values[f.name] if f.name in values else default_sql(f, sql))
    cursor.execute(sql.insert(model._meta.db_table, columns, exprs, lo, hi, where))


def child_count() -> dict:
    """Bring a kept database's schema up to date, and count its cases."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from casecenter.cases.models import Case

    return {"cases": Case.objects.count()}


def child_load(cases: int) -> dict:
    """Migrate, make 20 stations with an officer each, then the cases (see the docstring)."""
    from django.core.management import call_command
    from django.db import connection, transaction

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    from casecenter.accounts.models import Organisation, OrganisationKind, Role, User
    from casecenter.cases.models import Assignment, Case, CaseEvent, Party, Person
    from casecenter.measures.models import Measure, MeasureEvent
    from casecenter.portal.models import Receipt
    from casecenter.privacy import crypto

    officer_of = {}
    for n in range(STATIONS):
        org = Organisation.objects.create(
            code=f"b{n:02d}", kind=OrganisationKind.POLICE_STATION, name=f"基准第{n}派出所"
        )
        officer_of[org.pk] = User.objects.create(
            username=f"bench-b{n:02d}", role=Role.CASE_OFFICER, organisation=org
        ).pk
    org_sql, officer = (
        "CASE i % {} {} END".format(
            STATIONS, " ".join(f"WHEN {n} THEN {v}" for n, v in enumerate(ids))
        )
        for ids in (officer_of, officer_of.values())
    )
    sql = Sql(connection.vendor)
    span = 6 * 365 * DAY
    first = int(time.time()) - 100 * DAY - span
    t = f"({first} + i * {max(1, span // cases)})"

    def at(days: float = 0) -> str:
        return sql.ts(f"({t} + {int(days * DAY)})")

    def when(pairs: list[tuple[str, str]], default: str) -> str:
        return "CASE " + " ".join(f"WHEN {c} THEN {v}" for c, v in pairs) + f" ELSE {default} END"

    steps = [(kind, k, step) for kind, path in PATHS.items() for k, step in enumerate(path, 1)]
    state = when(
        [(f"{kind} AND {STAGE} >= {k}", quoted(to)) for kind, k, (_, _, to, _) in reversed(steps)],
        "'accepted'",
    )
    closed = [(kind, k, days) for kind, k, (_, _, to, days) in steps if to == "closed"]
    closed_at = when([(f"{kind} AND {STAGE} >= {k}", at(d)) for kind, k, d in closed], "NULL")
    category = when([(f"i % 8 = {n}", quoted(c)) for n, c in enumerate(CATEGORIES)], "'other'")
    kind = when([(ADMINISTRATIVE, "'administrative'")], "'criminal'")
    phone = quoted(crypto.encrypt("13800000000", context="cases.person.phone"))

    with connection.cursor() as cursor:
        if sql.pg:
            cursor.execute("SET session_replication_role = replica")  # no FK triggers: built right
            cursor.execute("SET synchronous_commit = off")

        def base(model) -> int:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}")
            return cursor.fetchone()[0]

        cb, pb, yb, mb = base(Case), base(Person), base(Party), base(Measure)
        case_id, reporter, suspect = f"{cb} + i", f"{yb} + i", f"{yb} + {cases} + i"
        # fmt: off
        for lo in range(1, cases + 1, CHUNK):
            hi = min(cases, lo + CHUNK - 1)
            with transaction.atomic():
                insert(cursor, sql, Case, {
                    "id": case_id, "organisation": org_sql, "kind": kind,
                    "number": f"'B' || (i % {STATIONS}) || '-' || {sql.year(t)} || '-' || i",
                    "year": sql.year(t), "serial": "i", "category": category,
                    "title": "'基准案件' || i", "state": state, "accepted_at": at(),
                    "closed_at": closed_at, "created_by": officer, "updated_at": at(),
                }, lo, hi)
                insert(cursor, sql, Assignment, {
                    "case": case_id, "user": officer, "role": "'lead'", "assigned_at": at(),
                }, lo, hi)
                for who, party, where, person, role in [
                    ("报案人", reporter, "TRUE", f"{pb} + i", "reporter"),
                    ("嫌疑人", suspect, DETAINED, f"{pb} + {cases} + i", "suspect"),
                ]:
                    days = 0 if role == "reporter" else 3
                    insert(cursor, sql, Person, {
                        "id": person, "name": f"'{who}' || i", "phone": phone,
                        "created_at": at(days),
                    }, lo, hi, where)
                    insert(cursor, sql, Party, {
                        "id": party, "case": case_id, "person": person, "role": quoted(role),
                        "added_at": at(days),
                    }, lo, hi, where)
                    insert(cursor, sql, CaseEvent, {
                        "case": case_id, "at": at(days), "actor": officer,
                        "kind": "'party_added'", "data": sql.json({"role": role}),
                    }, lo, hi, where)
                insert(cursor, sql, Receipt, {
                    "case": case_id, "party": reporter, "number": "'B-SA-' || i",
                    "token_digest": sql.hex64(), "issued_by": officer, "issued_at": at(0.01),
                }, lo, hi)
                events = [
                    ("TRUE", "accepted", "", "accepted", 0, {}),
                    *((f"{k_} AND {STAGE} >= {k}", "transition", a, b, d, {"transition": name})
                      for k_, k, (name, a, b, d) in steps),
                    ("TRUE", "receipt", "", "", 0.01, {"role": "reporter"}),
                    (DETAINED, "measure", "", "", 3, {"measure": "criminal_detention"}),
                ]
                for where, what, a, b, days, data in events:
                    insert(cursor, sql, CaseEvent, {
                        "case": case_id, "at": at(days), "actor": officer, "kind": quoted(what),
                        "from_state": quoted(a), "to_state": quoted(b), "data": sql.json(data),
                    }, lo, hi, where)
                insert(cursor, sql, Measure, {
                    "id": f"{mb} + i", "case": case_id, "party": suspect,
                    "kind": "'criminal_detention'",
                    "state": when([(f"{STAGE} >= 4", "'ended'")], "'in_force'"),
                    "started_at": at(3), "ended_at": when([(f"{STAGE} >= 4", at(60))], "NULL"),
                    "decided_by": officer,
                }, lo, hi, DETAINED)
                for what, days, where in [
                    ("started", 3, DETAINED),
                    ("family_notified", 3.1, DETAINED),
                    ("ended", 60, f"{DETAINED} AND {STAGE} >= 4"),
                ]:
                    insert(cursor, sql, MeasureEvent, {
                        "measure": f"{mb} + i", "kind": quoted(what), "at": at(days),
                        "actor": officer,
                    }, lo, hi, where)
            print(f"loaded {hi:,} of {cases:,} cases", file=sys.stderr, flush=True)
        # fmt: on
        if sql.pg:
            cursor.execute("SET session_replication_role = DEFAULT")
            from django.core.management.color import no_style

            for statement in connection.ops.sequence_reset_sql(
                no_style(), [Case, Person, Party, Measure]
            ):
                cursor.execute(statement)
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
    counts = {
        m._meta.db_table: m.objects.count()
        for m in (Case, CaseEvent, Person, Party, Receipt, Measure, MeasureEvent)
    }
    return {"load_s": round(time.perf_counter() - started, 1), "rows": counts}


def child_world(receipts: int, explain: bool) -> dict:
    """Cases made through the services, a receipt for each, an officer's API token,
    and the cost of one page view and one case detail, in-process."""
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from casecenter.accounts.models import Organisation, OrganisationKind, Role, User
    from casecenter.accounts.services import issue_api_token
    from casecenter.cases import services as cases
    from casecenter.measures.services import start_measure
    from casecenter.portal.models import Attempt
    from casecenter.portal.services import issue_receipt

    Attempt.objects.all().delete()  # a reused database starts with no counted attempts
    org, _ = Organisation.objects.get_or_create(
        code="bench", defaults={"kind": OrganisationKind.POLICE_STATION, "name": "基准派出所"}
    )
    lead, partner = (
        User.objects.get_or_create(
            username=name, defaults={"role": Role.CASE_OFFICER, "organisation": org}
        )[0]
        for name in ("bench-lead", "bench-partner")
    )
    tokens, numbers, case_ids = [], [], []
    for n in range(receipts):
        case = cases.accept_case(lead, kind="criminal", category="theft", title=f"公开页基准{n}")
        cases.assign_officer(lead, case, partner, "assisting")
        reporter = cases.add_party(lead, case, role="reporter", name="报案人", phone="13912345678")
        suspect = cases.add_party(lead, case, role="suspect", name="嫌疑人")
        for name in ("file", "start_investigation"):
            case.refresh_from_db()
            case = cases.transition_case(
                lead, case, name, expected_version=case.version, officers=[lead, partner]
            )
        start_measure(
            lead,
            case,
            suspect,
            "criminal_detention",
            started_at=timezone.now(),
            officers=[lead, partner],
        )
        _, token = issue_receipt(lead, case, reporter)
        tokens.append(token)
        numbers.append(case.number)
        case_ids.append(case.pk)
    _, api_token = issue_api_token(lead, name="bench")

    browser = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.0.0.255")
    assert browser.get(f"/p/t/{tokens[0]}/").status_code == 302
    page = profile(browser, "/p/case/", numbers[0])
    api = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {api_token}")
    detail = profile(api, f"/api/cases/{case_ids[0]}", numbers[0])
    Attempt.objects.all().delete()
    if explain:
        pg = connection.vendor == "postgresql"
        explain = "EXPLAIN (ANALYZE, BUFFERS) " if pg else "EXPLAIN QUERY PLAN "
        with connection.cursor() as cursor:
            for q in page["captured"] + detail["captured"]:
                if q["sql"].lstrip().upper().startswith("SELECT"):
                    cursor.execute(explain + q["sql"])
                    plan = "\n  ".join(str(row[-1]) for row in cursor.fetchall())
                    print(f"\n{q['sql']}\n  {plan}", file=sys.stderr)
    return {
        "tokens": tokens,
        "case_ids": case_ids,
        "api_token": api_token,
        **{f"page_{k}": v for k, v in page.items() if k != "captured"},
        **{f"detail_{k}": v for k, v in detail.items() if k != "captured"},
    }


def profile(client, path: str, expect: str) -> dict:
    """``PROFILE_VIEWS`` requests for ``path``, one at a time in this process: SQL
    queries of the last, median wall and database milliseconds."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    spent: list[float] = []

    def timed(execute, sql, params, many, context):  # finer than the captured "time"
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.append(time.perf_counter() - started)

    views, db = [], []
    for _ in range(PROFILE_VIEWS):
        spent.clear()
        started = time.perf_counter()
        with connection.execute_wrapper(timed), CaptureQueriesContext(connection) as queries:
            answer = client.get(path)
        views.append(time.perf_counter() - started)
        db.append(sum(spent))
        assert answer.status_code == 200 and expect in answer.content.decode(), path
    return {
        "captured": queries.captured_queries,
        "queries": len(queries.captured_queries),
        "ms_in_process": round(statistics.median(views) * 1000, 2),
        "db_ms": round(statistics.median(db) * 1000, 2),
    }


def child_serve(port: str, conn_max_age: str) -> None:
    """``runserver`` with persistent database connections (set before Django starts)."""
    import django
    from django.conf import settings
    from django.core.management import call_command

    settings.DATABASES["default"]["CONN_MAX_AGE"] = int(conn_max_age)
    django.setup()
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)


def child_main(step: str, args: list[str]) -> None:
    import django

    sys.path.insert(0, str(ROOT / "src"))
    if step == "serve":
        child_serve(*args)
        return
    django.setup()
    if step == "count":
        result = child_count()
    elif step == "load":
        result = child_load(int(args[0]))
    else:
        result = child_world(int(args[0]), args[1] == "1")
    print(json.dumps(result))


# --- the benchmark ------------------------------------------------------------------


def loaded_cases(db: str, env: dict, data_dir: Path) -> int:
    """How many cases the kept database holds (0 if there is none)."""
    if db == "postgres":
        if not pg_admin(f"SELECT 1 FROM pg_database WHERE datname = '{PG_NAME}'"):
            return 0
    elif not (data_dir / "casecenter.sqlite3").exists():
        return 0
    return run_child(__file__, env, "count", quiet=False)["cases"]


class Browser:
    """One keep-alive HTTP/1.1 connection from its own loopback address, with its cookies."""

    def __init__(self, port: int, n: int) -> None:
        self.port, self.source = port, f"127.1.{n // 250}.{n % 250 + 1}"
        self.cookies: dict[str, str] = {}

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            "127.0.0.1", self.port, local_addr=(self.source, 0)
        )

    def quick_ack(self) -> None:
        """Acknowledge at once (see the module docstring); Linux drops back to
        delayed ACKs by itself, so this is re-armed around every response."""
        sock = self.writer.get_extra_info("socket")
        if hasattr(socket, "TCP_QUICKACK"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)

    async def get(self, path: str, bearer: str = "") -> tuple[int, dict[str, str], bytes]:
        """``path`` with this browser's cookies, or as an API client with ``bearer``
        (its token and no cookie). A connection the server closed while it was idle
        (uvicorn's keep-alive timeout, 5 s, passes while 32 browsers open their
        receipts one after another) is opened again and the request sent again."""
        try:
            return await self._get(path, bearer)
        except (asyncio.IncompleteReadError, ConnectionResetError) as closed:
            if getattr(closed, "partial", b""):
                raise
            self.writer.close()
            await self.connect()
            return await self._get(path, bearer)

    async def _get(self, path: str, bearer: str) -> tuple[int, dict[str, str], bytes]:
        head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if bearer:
            head += f"Accept: application/json\r\nAuthorization: Bearer {bearer}\r\n"
        else:
            head += "Accept: text/html\r\n"
        if self.cookies and not bearer:
            head += "Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()) + "\r\n"
        self.writer.write(f"{head}\r\n".encode())
        self.quick_ack()
        lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        self.quick_ack()
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
            if name.lower() == "set-cookie":
                key, _, rest = value.strip().partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.writer.close()
            await self.connect()
        return int(lines[0].split()[1]), headers, body

    async def open_receipt(self, token: str) -> None:
        await self.connect()
        status, headers, _ = await self.get(f"/p/t/{token}/")
        if status != 302 or not headers.get("location", "").endswith("/p/case/"):
            raise RuntimeError(f"the receipt link answered {status}")
        status, _, body = await self.get("/p/case/")
        if status != 200 or b'data-testid="public-case"' not in body:
            raise RuntimeError(f"the public page answered {status}")


async def one_round(
    browsers: list[Browser], paths: list[str], seconds: float, bearer: str = ""
) -> tuple[float, list]:
    """Browser n asks for ``paths[n % len(paths)]`` again and again for ``seconds``
    (with ``bearer``: as an API client): rps and latencies."""
    latencies: list[float] = []
    started = time.perf_counter()
    stop = started + seconds

    async def ask(browser: Browser, path: str) -> None:
        while time.perf_counter() < stop:
            sent = time.perf_counter()
            status, _, _ = await browser.get(path, bearer)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
            latencies.append(time.perf_counter() - sent)

    await asyncio.gather(*(ask(b, paths[n % len(paths)]) for n, b in enumerate(browsers)))
    return len(latencies) / (time.perf_counter() - started), latencies


async def measure(port: int, world: dict, connections: int, seconds: float, rounds: int):
    browsers = [Browser(port, n) for n in range(connections)]
    tokens = world["tokens"]
    for n, browser in enumerate(browsers):  # one after another: the listen backlog is 10
        await browser.open_receipt(tokens[n % len(tokens)])
    kinds = {  # name: (paths, bearer)
        "trivial": (["/api/health"], ""),
        "public": (["/p/case/"], ""),
        "detail": ([f"/api/cases/{pk}" for pk in world["case_ids"]], world["api_token"]),
    }
    for paths, bearer in kinds.values():
        await one_round(browsers, paths, 1.0, bearer)  # warm-up
    rps: dict[str, list[float]] = {k: [] for k in kinds}
    latencies: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(rounds):  # alternate so drift hits all alike
        for name, (paths, bearer) in kinds.items():
            per_s, times = await one_round(browsers, paths, seconds, bearer)
            rps[name].append(round(per_s, 1))
            latencies[name].extend(times)
    for browser in browsers:
        browser.writer.close()
    figures = {
        name: {
            "rps": rps[name],
            "rps_mean": round(sum(rps[name]) / rounds, 1),
            "p50_ms": round(percentile(latencies[name], 0.50) * 1000, 2),
            "p99_ms": round(percentile(latencies[name], 0.99) * 1000, 2),
            "requests": len(latencies[name]),
        }
        for name in kinds
    }
    for name in ("public", "detail"):
        figures[f"{name}_vs_trivial"] = round(
            figures[name]["rps_mean"] / figures["trivial"]["rps_mean"], 4
        )
        # each round against the trivial round just before it: a machine shared with
        # other work drifts less within a round pair than over the whole run
        pairs = [a / b for a, b in zip(rps[name], rps["trivial"], strict=True)]
        figures[f"{name}_vs_trivial_median_pair"] = round(statistics.median(pairs), 4)
    return figures


def bench_db(db: str, args: argparse.Namespace) -> dict:
    cases = args.cases or DEFAULT_CASES[db]
    data_dir = Path(tempfile.gettempdir()) / f"casecenter-bench-portal-{db}"
    env = child_env(db, data_dir, PG_NAME)
    have = loaded_cases(db, env, data_dir) if args.reuse else 0
    load: dict = {"reused": have >= cases, "cases_in_db": have}
    if have < cases:
        shutil.rmtree(data_dir, ignore_errors=True)
        if db == "postgres":
            reset_postgres(PG_NAME)
        load = {"reused": False, **run_child(__file__, env, "load", cases, quiet=False)}
    world = run_child(__file__, env, "world", args.receipts, int(args.explain), quiet=False)
    port = free_port()
    if args.server == "serve":
        command = [str(BIN / "casecenter"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--workers", str(args.workers)]
    elif args.conn_max_age is not None:
        command = [sys.executable, __file__, "--child", "serve", str(port), str(args.conn_max_age)]
    else:
        command = [str(BIN / "casecenter"), "runserver", f"127.0.0.1:{port}", "--noreload"]
    server = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_up(f"http://127.0.0.1:{port}", 60)
        http = asyncio.run(measure(port, world, args.connections, args.seconds, args.rounds))
    finally:
        server.terminate()  # casecenter serve: a graceful stop of its workers
        server.wait(30)
    return {
        "cases": max(cases, have),
        "load": load,
        "connections": args.connections,
        "seconds_per_round": args.seconds,
        "rounds": args.rounds,
        "receipts": args.receipts,
        "conn_max_age": args.conn_max_age,
        **http,
        **{k: v for k, v in world.items() if k.startswith(("page_", "detail_"))},
    }


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "--child":
        child_main(sys.argv[2], sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--cases", type=int, help="default: 1,000,000 (postgres), 100,000")
    parser.add_argument("--reuse", action="store_true", help="keep a database holding N cases")
    parser.add_argument(
        "--server",
        choices=["serve", "runserver"],
        default="serve",
        help="casecenter serve (uvicorn workers, the production server) or runserver",
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="casecenter serve's processes"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0, help="per round")
    parser.add_argument("--rounds", type=int, default=3, help="of each endpoint, alternated")
    parser.add_argument("--receipts", type=int, default=8, help="made through the services")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        help="runserver with persistent database connections (default: as configured)",
    )
    parser.add_argument("--explain", action="store_true", help="page queries' plans to stderr")
    args = parser.parse_args()
    load_before = round(os.getloadavg()[0], 2)
    result = bench_db(args.db, args)
    print(
        json.dumps(
            {
                "benchmark": "portal",
                "what": "public case page and case detail (API) vs /api/health, same server",
                "server": (
                    f"casecenter serve --workers {args.workers} (uvicorn)"
                    if args.server == "serve"
                    else "casecenter runserver (threaded, one process)"
                ),
                "client": "asyncio, keep-alive, one session per connection, TCP_QUICKACK",
                "db": args.db,
                "loadavg_1m_at_start": load_before,
                "cpus": os.cpu_count(),
                "results": result,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
