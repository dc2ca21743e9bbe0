"""Hand-over packages: packaging and verifying against ``sha256sum`` over the same
files, as JSON.

    .venv/bin/python bench/package.py [--files 1000] [--total-mb 500] [--rounds 3]
                                      [--dir /tmp]

Issue 8, items 3 and 9. ``--files`` files of ``--total-mb`` MB in all (MB =
10⁶ bytes) are written to a temporary folder: random bytes (documents are PDFs
and JPEGs, which do not compress), sizes log-normal (σ = 1) with a mean of
total / files — about 500 KB by default, from a few KB to several MB — from a
fixed seed. Then, each round, the three in turn:

1. ``sha256sum``: coreutils over all the files (one child process), the baseline;
   and ``openssl dgst -sha256`` the same way, a second one: coreutils may have
   its own SHA-256 code, while Python's ``hashlib`` is OpenSSL's (SHA
   instructions where the CPU has them), so the two baselines can differ a lot;
2. ``package``: what a sender does — hash every file (``digest``, 1 MiB chunks),
   ``build_manifest``, ``sign``, ``write_zip`` (which copies each file into the
   zip in 1 MiB chunks and hashes it again, to refuse a document that changed
   since it was hashed); ``phases`` splits it into hashing and the rest;
3. ``verify``: ``verify_zip`` of that zip with the signer's key trusted.

All files are read once before timing, so every step reads from the page cache;
the zip is fresh from ``package`` when it is verified, as on the sending side.
Each figure is the min and median over ``--rounds``; ``ratios`` are times
divided by ``sha256sum``'s (min by min, median by median). The first round also
checks that the manifest's hashes are ``sha256sum``'s and that the package
verifies. The folder is removed at the end. Absolute numbers depend on the
machine and its disk; the ratios are the figures to watch.
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

from casecenter.exchange import manifest as pkg  # noqa: E402 - pure, no Django

SEED = 20260302
MB = 1_000_000
WRITE_CHUNK = 4 * 1024 * 1024


def make_files(folder: Path, count: int, total: int, seed: int) -> list[str]:
    """Write ``count`` files of ``total`` bytes in all; their paths, relative to ``folder``."""
    rng = random.Random(seed)
    weights = [rng.lognormvariate(0, 1) for _ in range(count)]
    whole = sum(weights)
    sizes = [max(1, int(total * weight / whole)) for weight in weights]
    sizes[sizes.index(max(sizes))] += total - sum(sizes)  # exactly ``total``
    (folder / "documents").mkdir()
    paths = []
    for i, size in enumerate(sizes):
        path = f"documents/{i:04d}-document.pdf"
        with open(folder / path, "wb") as out:
            for start in range(0, size, WRITE_CHUNK):
                out.write(rng.randbytes(min(WRITE_CHUNK, size - start)))
        paths.append(path)
    return paths


def warm(folder: Path, paths: list[str]) -> None:
    for path in paths:
        with open(folder / path, "rb") as f:
            while f.read(pkg.CHUNK):
                pass


def run_tool(command: list[str], folder: Path, paths: list[str]) -> tuple[float, str]:
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


def summary(seconds: list[float], megabytes: float) -> dict:
    best, median = min(seconds), statistics.median(seconds)
    return {
        "seconds": {"min": round(best, 3), "median": round(median, 3)},
        "mb_per_s": {
            "at_min": round(megabytes / best, 1),
            "at_median": round(megabytes / median, 1),
        },
    }


def ratio(times: list[float], baseline: list[float]) -> dict:
    return {
        "min": round(min(times) / min(baseline), 2),
        "median": round(statistics.median(times) / statistics.median(baseline), 2),
    }


def bench(args: argparse.Namespace) -> dict:
    total = int(args.total_mb * MB)
    folder = Path(tempfile.mkdtemp(prefix="casecenter-bench-package-", dir=args.dir))
    try:
        paths = make_files(folder, args.files, total, SEED)
        sizes = sorted((folder / path).stat().st_size for path in paths)
        key = pkg.generate_key()
        trusted = pkg.keyring([key.public_key()])
        target = folder / "package.zip"
        warm(folder, paths)
        openssl = shutil.which("openssl")
        times: dict[str, list[float]] = {
            "sha256sum": [],
            "openssl": [],
            "package": [],
            "verify": [],
        }
        phases: dict[str, list[float]] = {"hash": [], "rest": []}
        for round_ in range(args.rounds):
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
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    megabytes = total / MB
    return {
        "benchmark": "package",
        "files": args.files,
        "total_mb": megabytes,
        "file_kb": {
            "min": round(sizes[0] / 1000, 1),
            "median": round(statistics.median(sizes) / 1000, 1),
            "mean": round(total / args.files / 1000, 1),
            "max": round(sizes[-1] / 1000, 1),
        },
        "zip_overhead_bytes": zip_bytes - total,
        "rounds": args.rounds,
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
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "sha256sum": subprocess.run(
                ["sha256sum", "--version"], capture_output=True, text=True
            ).stdout.splitlines()[0],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--total-mb", type=float, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default=None, help="where the temporary folder goes")
    args = parser.parse_args()
    if args.files < 1 or args.rounds < 1 or args.total_mb * MB < args.files:
        parser.error("need at least one file, one round and a byte per file")
    print(json.dumps(bench(args), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
