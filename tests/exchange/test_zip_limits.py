"""Hostile package zips, built byte by byte: overlapping members, sizes past the end of the
file, too many members or bytes, symlinks and devices — all refused from the zip's headers,
before a single byte is hashed (docs/package-format.md, "Limits")."""

from __future__ import annotations

import io
import stat
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casecenter.exchange.manifest import ZipLimits, default_limits, verify_zip
from tests.exchange.test_manifest import KEY_B64, PLENTY, TRUSTED, package, run

REGULAR = (stat.S_IFREG | 0o644) << 16


def raw_zip(locals_: list[tuple[str, bytes]], central: list[dict]) -> bytes:
    """A zip written by hand: ``locals_`` are the (name, bytes) written in order, each
    behind its local header; ``central`` lists the central directory's entries, each
    ``{"name", "local": index of the local entry it points at, "size"?, "mode"?}``."""
    out, offsets = bytearray(), []
    for name, data in locals_:
        offsets.append(len(out))
        encoded = name.encode()
        crc = zlib.crc32(data)
        out += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0x800, 0, 0, 0x21, crc, len(data), len(data),
            len(encoded), 0,
        )  # fmt: skip
        out += encoded + data
    start = len(out)
    for entry in central:
        name = entry["name"].encode()
        _, data = locals_[entry["local"]]
        size = entry.get("size", len(data))
        out += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | 20, 20, 0x800, 0, 0, 0x21,
            zlib.crc32(data), size, size, len(name), 0, 0, 0, 0,
            entry.get("mode", REGULAR), offsets[entry["local"]],
        )  # fmt: skip
        out += name
    size = len(out) - start
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), size, start, 0)
    return bytes(out)


class Counting(io.BytesIO):
    """A zip file that counts the bytes read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.read_bytes = 0

    def read(self, size=-1):
        data = super().read(size)
        self.read_bytes += len(data)
        return data


def codes(data: bytes, **options) -> list[str]:
    return [p.code for p in verify_zip(io.BytesIO(data), TRUSTED, **options).problems]


def test_an_ordinary_package_passes_the_default_limits():
    assert verify_zip(io.BytesIO(package()), TRUSTED).ok


def test_an_overlap_bomb_is_refused_before_anything_is_hashed():
    """One 4 MiB stretch of bytes named 500 times would be hashed 500 times (2 GB)."""
    big = b"%PDF-1.7 " + b"\0" * (4 * 1024 * 1024)
    central = [{"name": "manifest.json", "local": 0}] + [
        {"name": f"files/documents/{n:04d}.pdf", "local": 1} for n in range(500)
    ]
    data = raw_zip([("manifest.json", b"{}"), ("files/documents/0000.pdf", big)], central)
    archive = Counting(data)
    verdict = verify_zip(archive, TRUSTED)
    assert not verdict.ok and {p.code for p in verdict.problems} == {"zip.overlap"}
    assert len(verdict.problems) == 499
    assert archive.read_bytes < 256 * 1024  # headers only: the big member was never read


def test_a_member_whose_declared_size_runs_past_the_file_is_refused():
    data = raw_zip(
        [("manifest.json", b"{}")], [{"name": "manifest.json", "local": 0, "size": 10**9}]
    )
    assert codes(data) == ["zip.truncated"]


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        (stat.S_IFLNK, "a symbolic link"),
        (stat.S_IFCHR, "a character device"),
        (stat.S_IFBLK, "a block device"),
        (stat.S_IFIFO, "a named pipe"),
        (stat.S_IFSOCK, "a socket"),
    ],
)
def test_symlinks_and_devices_are_refused(kind, name):
    data = raw_zip(
        [("manifest.json", b"{}"), ("files/etc", b"/etc/passwd")],
        [
            {"name": "manifest.json", "local": 0},
            {"name": "files/etc", "local": 1, "mode": (kind | 0o777) << 16},
        ],
    )
    verdict = verify_zip(io.BytesIO(data), TRUSTED)
    assert [(p.code, p.path) for p in verdict.problems] == [("zip.file_mode", "files/etc")]
    assert name in verdict.problems[0].message_en


def test_too_many_members_or_bytes_are_refused_before_reading():
    data = package()
    assert codes(data, limits=ZipLimits(members=3)) == ["zip.limits"]
    assert codes(data, limits=ZipLimits(total_bytes=1000)) == ["zip.limits"]
    assert verify_zip(io.BytesIO(data), TRUSTED, limits=ZipLimits(members=6)).ok


def test_the_limits_come_from_the_settings(settings):
    settings.CASECENTER_PACKAGE_MAX_MEMBERS = 3
    settings.CASECENTER_PACKAGE_MAX_TOTAL_MB = 2
    assert default_limits() == ZipLimits(members=3, total_bytes=2 * 1024 * 1024)
    assert codes(package()) == ["zip.limits"]


@pytest.mark.django_db  # the command also trusts the keys registered in the database
def test_the_command_refuses_an_overlapping_zip_and_names_the_reason(tmp_path: Path):
    path = tmp_path / "bomb.zip"
    path.write_bytes(
        raw_zip(
            [("manifest.json", b"{}")],
            [{"name": "manifest.json", "local": 0}, {"name": "files/a.pdf", "local": 0}],
        )
    )
    code, out = run("verify", str(path), "--key", KEY_B64)
    assert code == 1 and "zip.overlap" in out


@pytest.mark.django_db
def test_the_api_refuses_an_overlapping_zip(api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = raw_zip(
        [("manifest.json", b"{}")],
        [{"name": "manifest.json", "local": 0}, {"name": "files/a.pdf", "local": 0}],
    )
    r = api("lead").post(
        "/api/exchange/verify", {"file": SimpleUploadedFile("p.zip", data, "application/zip")}
    )
    assert r.status_code == 200 and not r.json()["ok"]
    assert [p["code"] for p in r.json()["problems"]] == ["zip.overlap"]


@PLENTY
@given(
    sizes=st.lists(st.integers(1, 300), min_size=1, max_size=5),
    pointers=st.lists(st.integers(0, 4), min_size=1, max_size=8),
)
def test_two_names_on_the_same_bytes_are_always_refused_and_never_raise(sizes, pointers):
    locals_ = [(f"files/{n}.pdf", bytes([n]) * size) for n, size in enumerate(sizes)]
    central = [
        {"name": f"files/c{n}.pdf", "local": pointer % len(locals_)}
        for n, pointer in enumerate(pointers)
    ]
    verdict = verify_zip(io.BytesIO(raw_zip(locals_, central)), TRUSTED)
    shared = len(central) - len({entry["local"] for entry in central})
    overlaps = [p for p in verdict.problems if p.code == "zip.overlap"]
    assert len(overlaps) == shared
    assert not verdict.ok
