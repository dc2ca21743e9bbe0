"""Hand-over packages: packaging and verifying against ``sha256sum`` over the same
files, as JSON — the pure package format, and the real path through the database.

    .venv/bin/python bench/package.py [--db sqlite|postgres|both|none] [--quick]
                                      [--files 1000] [--total-mb 500] [--rounds 3]
                                      [--dir /tmp]

Issue 8, items 3 and 9. ``--files`` files of ``--total-mb`` MB in all (MB =
10⁶ bytes; ``--quick``: 50 files, 25 MB) are written to a temporary folder: a
PDF header and random bytes (documents are PDFs and JPEGs, which do not
compress), sizes log-normal (σ = 1) with a mean of total / files — about 500 KB
by default, from a few KB to several MB — from a fixed seed. All files are read
once before timing, so every step reads from the page cache. Each figure is the
min and median over ``--rounds``; ``ratios`` are times divided by the
baseline's measured in the same run (min by min, median by median). Absolute
numbers depend on the machine and its disk; the ratios are the figures to watch.

``format`` — the pure format (``casecenter.exchange.manifest``, no Django), each
round the three in turn:

1. ``sha256sum``: coreutils over all the files (one child process), the baseline;
   and ``openssl dgst -sha256`` the same way, a second one: coreutils may have
   its own SHA-256 code, while Python's ``hashlib`` is OpenSSL's (SHA
   instructions where the CPU has them), so the two baselines can differ a lot;
2. ``package``: what a sender does with files it has not hashed — hash every
   file (``digest``, 1 MiB chunks), ``build_manifest``, ``sign``, ``write_zip``
   (which copies each file into the zip in 1 MiB chunks and hashes it again, to
   refuse a document that changed since it was hashed); ``phases`` splits it
   into hashing and the rest;
3. ``verify``: ``verify_zip`` of that zip with the signer's key trusted.

The first round checks that the manifest's hashes are ``sha256sum``'s and that
the package verifies.

``db`` — the real path, once per database (``--db``; ``both`` by default), in a
child process with a throw-away database (SQLite in a temporary
``CASECENTER_DATA_DIR``; PostgreSQL ``casecenter_bench_package``, made afresh
and dropped at the end) whose dossier storage is in that folder. Set-up, not
timed: a police station under a legal-affairs unit, a procuratorate, a case
officer, a legal-affairs officer and a prosecutor; a criminal case whose
dossier holds the same files as documents, each added through
``dossiers.services.add_case_document`` (so stored by its SHA-256 through
``dossiers.storage.put``); the station's signing key. Then, each round:

1. ``sha256sum`` and ``openssl dgst -sha256`` over the stored files (the
   baselines, as above);
2. ``send``: ``exchange.sending.send_from_case`` of a transfer for prosecution —
   the dossier's snapshot (each document's current version is already stored by
   its hash, so nothing is read or copied), the manifest signed with the
   station's key, the package and its file rows, clock, case event, audit entry
   and outbox event, one transaction;
3. ``receive``: ``exchange.services.receive`` by the prosecutor — the signature
   against the station's keys and every file read again from storage and
   hashed, then the package's state, clock, audit entry, one transaction;
4. ``export``: ``exchange.packaging.write_zip`` of it to a file (copies and hashes
   every file again);
5. ``verify_zip``: ``exchange.manifest.verify_zip`` of that zip with the
   installation's registered keys (``keys.trusted()``).

Between rounds the prosecutor returns the package (not timed), so the next
round's send is a fresh package of the same dossier (a returned package is no
longer live; the stored files are the same, content-addressed). Every round
checks that the package was received (verified) and that its zip verifies; the
first also that its manifest's hashes are ``sha256sum``'s of the stored files.
The temporary folders are removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from common import child_env, pg_admin, reset_postgres, run_child  # noqa: E402

from casecenter.exchange import manifest as pkg  # noqa: E402 - pure, no Django

SEED = 20260302
MB = 1_000_000
WRITE_CHUNK = 4 * 1024 * 1024
PDF_HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"  # so the dossier's type check takes it
PG_NAME = "casecenter_bench_package"
#: the kinds of the benchmark dossier's documents, in turn
DOCUMENT_KINDS = ["evidence", "inquiry_record", "interrogation_record", "appraisal_opinion"]


def make_files(folder: Path, count: int, total: int, seed: int) -> list[str]:
    """Write ``count`` files of ``total`` bytes in all; their paths, relative to ``folder``."""
    rng = random.Random(seed)
    weights = [rng.lognormvariate(0, 1) for _ in range(count)]
    whole = sum(weights)
    sizes = [max(len(PDF_HEADER), int(total * weight / whole)) for weight in weights]
    sizes[sizes.index(max(sizes))] += total - sum(sizes)  # exactly ``total``
    (folder / "documents").mkdir()
    paths = []
    for i, size in enumerate(sizes):
        path = f"documents/{i:04d}-document.pdf"
        with open(folder / path, "wb") as out:
            out.write(PDF_HEADER)
            for start in range(len(PDF_HEADER), size, WRITE_CHUNK):
                out.write(rng.randbytes(min(WRITE_CHUNK, size - start)))
        paths.append(path)
    return paths


def warm(folder: Path | str, paths: list[str]) -> None:
    for path in paths:
        with open(Path(folder) / path, "rb") as f:
            while f.read(pkg.CHUNK):
                pass


def run_tool(command: list[str], folder: Path | str, paths: list[str]) -> tuple[float, str]:
    """Seconds ``command`` takes over all the files (one child process), and its output."""
    started = time.perf_counter()
    out = subprocess.run([*command, *paths], cwd=folder, check=True, capture_output=True, text=True)
    return time.perf_counter() - started, out.stdout


def run_package(folder: Path, paths: list[str], key, target: Path) -> tuple[dict, dict]:
    """Package the files; the seconds of each phase and the manifest."""
    started = time.perf_counter()
    entries = []
    for path in paths:
        with open(folder / path, "rb") as f:
            sha256, size = pkg.digest(f)
        entries.append(pkg.Entry(path, sha256, size, "document", path))
    hashed = time.perf_counter()
    manifest = pkg.build_manifest(
        package="BENCH-2026-0001",
        sender={"code": "BENCH-PCS", "name": "基准派出所", "kind": "police_station"},
        receiver={"code": "BENCH-JCY", "name": "基准检察院", "kind": "procuratorate"},
        case={"number": "BENCH-XS-2026-00001", "title": "基准案件"},
        request="移送审查起诉",
        created_at="2026-03-02T10:15:00+08:00",
        entries=entries,
        signer=pkg.key_id(key.public_key()),
    )
    signature = pkg.sign(manifest, key)

    def open_entry(entry: pkg.Entry):
        return open(folder / entry.path, "rb")  # noqa: SIM115 - write_zip closes it

    pkg.write_zip(target, manifest, signature, key.public_key(), open_entry)
    done = time.perf_counter()
    return {"total": done - started, "hash": hashed - started, "rest": done - hashed}, manifest


def run_verify(target: Path, trusted: dict) -> tuple[float, pkg.Verdict]:
    started = time.perf_counter()
    verdict = pkg.verify_zip(target, trusted)
    return time.perf_counter() - started, verdict


def summary(seconds: list[float], megabytes: float | None) -> dict:
    """Min and median seconds; and MB/s, for a step that reads the ``megabytes``."""
    best, median = min(seconds), statistics.median(seconds)
    out: dict = {"seconds": {"min": round(best, 3), "median": round(median, 3)}}
    if megabytes is not None:
        out["mb_per_s"] = {
            "at_min": round(megabytes / best, 1),
            "at_median": round(megabytes / median, 1),
        }
    return out


def ratio(times: list[float], baseline: list[float]) -> dict:
    return {
        "min": round(min(times) / min(baseline), 3),
        "median": round(statistics.median(times) / statistics.median(baseline), 3),
    }


def progress(message: str) -> None:
    print(f"[bench/package] {message}", file=sys.stderr, flush=True)


# --- the pure format ------------------------------------------------------------------


def bench_format(folder: Path, paths: list[str], rounds: int, total: int) -> dict:
    key = pkg.generate_key()
    trusted = pkg.keyring([key.public_key()])
    target = folder / "package.zip"
    warm(folder, paths)
    openssl = shutil.which("openssl")
    times: dict[str, list[float]] = {"sha256sum": [], "openssl": [], "package": [], "verify": []}
    phases: dict[str, list[float]] = {"hash": [], "rest": []}
    for round_ in range(rounds):
        progress(f"format: round {round_ + 1}/{rounds}")
        seconds, listing = run_tool(["sha256sum", "--"], folder, paths)
        times["sha256sum"].append(seconds)
        if openssl:
            times["openssl"].append(run_tool([openssl, "dgst", "-sha256"], folder, paths)[0])
        target.unlink(missing_ok=True)
        packaged, manifest = run_package(folder, paths, key, target)
        times["package"].append(packaged["total"])
        phases["hash"].append(packaged["hash"])
        phases["rest"].append(packaged["rest"])
        seconds, verdict = run_verify(target, trusted)
        times["verify"].append(seconds)
        if round_ == 0:
            ours = sorted(f"{e['sha256']}  {e['path']}" for e in manifest["entries"])
            if ours != sorted(listing.splitlines()):
                raise SystemExit("the manifest's hashes are not sha256sum's")
            if not verdict.ok:
                raise SystemExit(f"the package does not verify: {verdict.problems}")
    zip_bytes = target.stat().st_size
    target.unlink()
    megabytes = total / MB
    return {
        "zip_overhead_bytes": zip_bytes - total,
        "sha256sum": summary(times["sha256sum"], megabytes),
        "package": {
            **summary(times["package"], megabytes),
            "phases_median_s": {
                "hash": round(statistics.median(phases["hash"]), 3),
                "manifest_sign_zip": round(statistics.median(phases["rest"]), 3),
            },
        },
        "verify": summary(times["verify"], megabytes),
        "ratios": {
            "package_vs_sha256sum": ratio(times["package"], times["sha256sum"]),
            "verify_vs_sha256sum": ratio(times["verify"], times["sha256sum"]),
        },
        **(
            {
                "openssl_dgst": summary(times["openssl"], megabytes),
                "ratios_vs_openssl_dgst": {
                    "package": ratio(times["package"], times["openssl"]),
                    "verify": ratio(times["verify"], times["openssl"]),
                },
            }
            if times["openssl"]
            else {}
        ),
    }


# --- the real path, in a child process per database -----------------------------------


def db_child(source: str, rounds: int) -> dict:
    """Runs inside the child process (its database and data folder from the
    environment): set up the case and its dossier, then time the rounds."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from casecenter.accounts.models import Organisation, OrganisationKind, Role, User
    from casecenter.cases import services as cases
    from casecenter.dossiers import services as dossiers
    from casecenter.dossiers import storage
    from casecenter.dossiers.models import Version
    from casecenter.exchange import keys, packaging, sending, services
    from casecenter.exchange.models import PackageKind, PackageState

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    legal_unit = Organisation.objects.create(
        code="bfz", kind=OrganisationKind.LEGAL_AFFAIRS, name="基准法制支队"
    )
    station = Organisation.objects.create(
        code="bpcs", kind=OrganisationKind.POLICE_STATION, name="基准派出所", parent=legal_unit
    )
    procuratorate = Organisation.objects.create(
        code="bjcy", kind=OrganisationKind.PROCURATORATE, name="基准检察院"
    )

    def user(username: str, role: str, org: Organisation) -> User:
        return User.objects.create(
            username=username, display_name=username, role=role, organisation=org
        )

    lead = user("bench-lead", Role.CASE_OFFICER, station)
    legal = user("bench-legal", Role.LEGAL_AFFAIRS, legal_unit)
    prosecutor = user("bench-prosecutor", Role.PROSECUTOR, procuratorate)
    case = cases.accept_case(lead, kind="criminal", category="theft", title="基准盗窃案")
    folder = Path(source)
    paths = sorted(p.relative_to(folder).as_posix() for p in (folder / "documents").iterdir())
    for i, path in enumerate(paths):
        if i % 100 == 0:
            progress(f"{connection.vendor}: storing document {i + 1}/{len(paths)}")
        with open(folder / path, "rb") as f:
            dossiers.add_case_document(
                lead,
                case,
                kind=DOCUMENT_KINDS[i % len(DOCUMENT_KINDS)],
                chunks=iter(lambda f=f: f.read(storage.CHUNK), b""),
                filename=path.rsplit("/", 1)[-1],
                title=f"基准材料{i + 1:04d}",
            )
    keys.active_key(station)
    setup_s = time.perf_counter() - started

    stored = list(
        Version.objects.filter(document__dossier__case=case).values_list("storage_name", flat=True)
    )
    location = storage.storage().location
    total = sum((Path(location) / name).stat().st_size for name in stored)
    warm(location, stored)
    trusted = keys.trusted()
    target = Path(tempfile.mkdtemp(prefix="zip-", dir=os.environ["CASECENTER_DATA_DIR"]))
    target = target / "package.zip"
    openssl = shutil.which("openssl")
    steps = ["sha256sum", "openssl", "send", "receive", "export", "verify_zip"]
    times: dict[str, list[float]] = {step: [] for step in steps}
    for round_ in range(rounds):
        progress(f"{connection.vendor}: round {round_ + 1}/{rounds}")
        seconds, listing = run_tool(["sha256sum", "--"], location, stored)
        times["sha256sum"].append(seconds)
        if openssl:
            times["openssl"].append(run_tool([openssl, "dgst", "-sha256"], location, stored)[0])

        clock = time.perf_counter()
        package = sending.send_from_case(
            legal, case, kind=PackageKind.PROSECUTION_REVIEW, receiver=procuratorate
        )
        times["send"].append(time.perf_counter() - clock)

        clock = time.perf_counter()
        package = services.receive(prosecutor, package)
        times["receive"].append(time.perf_counter() - clock)
        if package.state != PackageState.RECEIVED:
            raise SystemExit(f"the package was refused: {package.verification}")

        target.unlink(missing_ok=True)
        clock = time.perf_counter()
        packaging.write_zip(package, str(target))
        times["export"].append(time.perf_counter() - clock)

        clock = time.perf_counter()
        verdict = pkg.verify_zip(target, trusted)
        times["verify_zip"].append(time.perf_counter() - clock)
        if not verdict.ok or not verdict.signer_checked:
            raise SystemExit(f"the zip does not verify: {verdict.problems}")

        if round_ == 0:
            listed = sorted(e["sha256"] for e in packaging.manifest_of(package)["entries"])
            hashed = sorted(line.split()[0] for line in listing.splitlines())
            if package.files_count != len(paths) or listed != hashed:
                raise SystemExit("the manifest's hashes are not sha256sum's of the stored files")
        services.return_package(prosecutor, package, reasons="基准测试：退回，以便再次移交。")

    zip_bytes = target.stat().st_size
    megabytes = total / MB
    base = times["sha256sum"]
    result = {
        "setup_s": round(setup_s, 1),
        "documents": len(stored),
        "stored_mb": round(megabytes, 3),
        "zip_overhead_bytes": zip_bytes - total,
        "sha256sum": summary(base, megabytes),
        "send": summary(times["send"], None),
        "receive": summary(times["receive"], megabytes),
        "export": summary(times["export"], megabytes),
        "verify_zip": summary(times["verify_zip"], megabytes),
        "ratios": {
            f"{step}_vs_sha256sum": ratio(times[step], base)
            for step in ("send", "receive", "export", "verify_zip")
        },
    }
    if times["openssl"]:
        result["openssl_dgst"] = summary(times["openssl"], megabytes)
        result["ratios_vs_openssl_dgst"] = {
            step: ratio(times[step], times["openssl"])
            for step in ("send", "receive", "export", "verify_zip")
        }
    if connection.vendor == "postgresql":
        version = connection.pg_version  # e.g. 150020
        result["server"] = f"PostgreSQL {version // 10000}.{version % 10000}"
    else:
        import sqlite3

        result["server"] = f"SQLite {sqlite3.sqlite_version}"
    return result


def bench_db(db: str, folder: Path, rounds: int, parent: str | None) -> dict:
    data_dir = tempfile.mkdtemp(prefix=f"casecenter-bench-package-{db}-", dir=parent)
    env = child_env(db, data_dir, PG_NAME)
    try:
        if db == "postgres":
            reset_postgres(PG_NAME)
        return run_child(__file__, env, "db", folder, rounds, quiet=False)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if db == "postgres":
            pg_admin(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")


def bench(args: argparse.Namespace) -> dict:
    total = int(args.total_mb * MB)
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    folder = Path(tempfile.mkdtemp(prefix="casecenter-bench-package-", dir=args.dir))
    try:
        progress(f"writing {args.files} files of {args.total_mb:g} MB in all")
        paths = make_files(folder, args.files, total, SEED)
        sizes = sorted((folder / path).stat().st_size for path in paths)
        pure = bench_format(folder, paths, args.rounds, total)
        dbs = {"both": ["sqlite", "postgres"], "none": []}.get(args.db, [args.db])
        real = {db: bench_db(db, folder, args.rounds, args.dir) for db in dbs}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    openssl = shutil.which("openssl")
    return {
        "benchmark": "package",
        "files": args.files,
        "total_mb": total / MB,
        "file_kb": {
            "min": round(sizes[0] / 1000, 1),
            "median": round(statistics.median(sizes) / 1000, 1),
            "mean": round(total / args.files / 1000, 1),
            "max": round(sizes[-1] / 1000, 1),
        },
        "rounds": args.rounds,
        "format": pure,
        "db": real,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": load_at_start,
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "sha256sum": subprocess.run(
                ["sha256sum", "--version"], capture_output=True, text=True
            ).stdout.splitlines()[0],
            **(
                {
                    "openssl": subprocess.run(
                        [openssl, "version"], capture_output=True, text=True
                    ).stdout.strip()
                }
                if openssl
                else {}
            ),
        },
    }


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1:3] == ["--child", "db"]:
        print(json.dumps(db_child(sys.argv[3], int(sys.argv[4]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both", "none"], default="both")
    parser.add_argument("--quick", action="store_true", help="50 files, 25 MB (unless given)")
    parser.add_argument("--files", type=int, default=None, help="1000 (--quick: 50)")
    parser.add_argument("--total-mb", type=float, default=None, help="500 (--quick: 25)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default=None, help="where the temporary folders go")
    args = parser.parse_args()
    if args.files is None:
        args.files = 50 if args.quick else 1000
    if args.total_mb is None:
        args.total_mb = 25 if args.quick else 500
    if args.files < 1 or args.rounds < 1 or args.total_mb * MB < args.files * len(PDF_HEADER):
        parser.error(f"need at least one file, one round and {len(PDF_HEADER)} bytes per file")
    print(json.dumps(bench(args), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
