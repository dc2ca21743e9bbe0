"""Signed hand-over packages: building, signing, the zip, verifying, and
``casecenter package verify``. No database: the format works on bytes and files."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from casecenter.exchange.manifest import (
    FORMAT,
    Entry,
    Verdict,
    build_manifest,
    canonical,
    digest,
    generate_key,
    key_id,
    keyring,
    load_private_key,
    load_public_key,
    private_key_bytes,
    public_key_b64,
    sign,
    verify,
    verify_zip,
    write_zip,
)

ROOT = Path(__file__).resolve().parents[2]
CASECENTER = ROOT / ".venv" / "bin" / "casecenter"

KEY = load_private_key(bytes(range(32)))  # fixed keys: failures are reproducible
OTHER = load_private_key(bytes(range(100, 132)))
TRUSTED = keyring([KEY.public_key()])

SENDER = {"code": "HDJ-ZGC", "name": "中关村派出所", "kind": "police_station"}
RECEIVER = {"code": "HDJ-JCY", "name": "海淀区人民检察院", "kind": "procuratorate"}
CASE = {"number": "ZGC-XS-2026-00042", "title": "电动车被盗案"}
FILES = {
    "documents/0001-acceptance-v1.pdf": b"%PDF-1.7 acceptance " * 50,
    "documents/0003-interrogation_record-v2.pdf": b"%PDF-1.7 interrogation " * 80,
    "photos/0002-scene.jpg": bytes(range(256)) * 9,
}
PLENTY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.from_regex(r"[a-z0-9询问笔录][a-z0-9_\-询问笔录]{0,12}\.(pdf|jpg)", fullmatch=True)
paths = st.builds(
    lambda folder, name: f"{folder}/{name}",
    st.sampled_from(["documents", "photos", "documents/2026"]),
    names,
)
file_sets = st.dictionaries(paths, st.binary(min_size=1, max_size=400), min_size=1, max_size=5)


# --- helpers ----------------------------------------------------------------------------


def entries_for(files: dict[str, bytes]) -> list[Entry]:
    return [
        Entry(path, hashlib.sha256(data).hexdigest(), len(data), "record", f"材料 {path}")
        for path, data in files.items()
    ]


def make_manifest(files: dict[str, bytes] = FILES, key=KEY, **overrides) -> dict:
    fields = {
        "package": "ZGC-YJ-2026-0007",
        "sender": SENDER,
        "receiver": RECEIVER,
        "case": CASE,
        "request": "提请批准逮捕",
        "created_at": "2026-03-02T10:15:00+08:00",
        "entries": entries_for(files),
        "signer": key_id(key.public_key()),
        **overrides,
    }
    return build_manifest(**fields)


def package(files: dict[str, bytes] = FILES, key=KEY) -> bytes:
    """A package zip made the ordinary way."""
    manifest = make_manifest(files, key)
    out = io.BytesIO()
    write_zip(
        out, manifest, sign(manifest, key), key.public_key(), lambda e: io.BytesIO(files[e.path])
    )
    return out.getvalue()


def craft(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED) -> bytes:
    """A zip made by hand, holding exactly ``members`` (names as given, in order)."""
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(out, "w") as archive:
            for name, data in members:
                archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return out.getvalue()


def members_of(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def data_offset(data: bytes, name: str) -> int:
    """Where member ``name``'s bytes start in the zip."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    name_length, extra_length = struct.unpack(
        "<HH", data[info.header_offset + 26 : info.header_offset + 30]
    )
    return info.header_offset + 30 + name_length + extra_length


def check(data: bytes, trusted=TRUSTED, **options) -> Verdict:
    return verify_zip(io.BytesIO(data), trusted, **options)


def found(verdict: Verdict) -> list[tuple[str, str]]:
    return [(problem.code, problem.path) for problem in verdict.problems]


# --- building and signing ---------------------------------------------------------------


def test_a_package_round_trips_build_sign_zip_verify(tmp_path):
    manifest = make_manifest()
    target = tmp_path / "package.zip"
    write_zip(
        target, manifest, sign(manifest, KEY), KEY.public_key(), lambda e: io.BytesIO(FILES[e.path])
    )

    verdict = verify_zip(target, TRUSTED)

    assert verdict.ok and verdict.problems == []
    assert verdict.signer == key_id(KEY.public_key()) and verdict.signer_checked
    assert verdict.manifest == manifest


def test_the_manifest_has_the_format_the_parties_and_the_entries_sorted_by_path():
    manifest = make_manifest(extra={"note": "加急"})
    assert (
        (manifest["format"], manifest["hash"])
        == (FORMAT, "sha256")
        == ("casecenter-package/1", "sha256")
    )
    assert (manifest["sender"], manifest["receiver"], manifest["case"]) == (SENDER, RECEIVER, CASE)
    assert manifest["signer"] == key_id(KEY.public_key())
    assert manifest["extra"] == {"note": "加急"}
    assert [entry["path"] for entry in manifest["entries"]] == sorted(FILES)
    first = manifest["entries"][0]
    assert first == {
        "path": "documents/0001-acceptance-v1.pdf",
        "sha256": hashlib.sha256(FILES["documents/0001-acceptance-v1.pdf"]).hexdigest(),
        "size": 1000,
        "kind": "record",
        "title": "材料 documents/0001-acceptance-v1.pdf",
    }
    assert "extra" not in make_manifest()


def test_canonical_bytes_are_sorted_compact_utf8_json():
    value = {"b": 1, "a": ["中", {"d": None, "c": True}]}
    assert canonical(value) == '{"a":["中",{"c":true,"d":null}],"b":1}'.encode()


@PLENTY
@given(files=file_sets, data=st.data())
def test_the_order_the_entries_come_in_does_not_change_the_manifest(files, data):
    entries = entries_for(files)
    shuffled = data.draw(st.permutations(entries))
    assert canonical(make_manifest(entries=shuffled)) == canonical(make_manifest(entries=entries))


@pytest.mark.parametrize(
    "path", ["../x", "/etc/x", "a//b", "a\\b", "", "a/./b", "a/", "a/../b", "C:/x", "a\x00b"]
)
def test_an_unsafe_path_is_refused_when_building(path):
    entry = Entry(path, "0" * 64, 1, "record", "x")
    with pytest.raises(ValueError, match="unsafe path"):
        make_manifest(entries=[entry])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"entries": entries_for(FILES) * 2}, "listed twice"),
        ({"entries": entries_for({"a": b"1", "a/b": b"2"})}, "also the folder"),
        ({"entries": [Entry("a", "ABC", 1, "k", "t")]}, "64 lower-case hex"),
        ({"entries": [Entry("a", "0" * 64, -1, "k", "t")]}, "whole number"),
        ({"created_at": "2026-03-02T10:15:00"}, "no UTC offset"),
        ({"created_at": "yesterday"}, "not an ISO 8601 time"),
        ({"signer": "not-a-key-id"}, "signer must be a key id"),
        ({"extra": {"weight": 1.5}}, "float is not allowed"),
        ({"sender": {"code": "x"}}, "sender must be a dict"),
        ({"case": {"title": "no number"}}, "case must be a dict"),
    ],
)
def test_build_refuses_a_bad_manifest_with_a_clear_message(overrides, message):
    with pytest.raises(ValueError, match=message):
        make_manifest(**overrides)


def test_the_key_id_is_the_start_of_the_sha256_of_the_raw_public_key():
    raw = base64.b64decode(public_key_b64(KEY.public_key()))
    assert len(raw) == 32
    assert key_id(KEY.public_key()) == hashlib.sha256(raw).hexdigest()[:16]
    assert key_id(KEY.public_key()) != key_id(OTHER.public_key())


def test_keys_round_trip_through_their_raw_bytes():
    key = generate_key()
    again = load_private_key(private_key_bytes(key))
    assert public_key_b64(again.public_key()) == public_key_b64(key.public_key())
    loaded = load_public_key(public_key_b64(key.public_key()))
    assert key_id(loaded) == key_id(key.public_key())
    with pytest.raises(ValueError, match="not base64"):
        load_public_key("not base64!")
    with pytest.raises(ValueError, match="32 bytes"):
        load_public_key(base64.b64encode(b"short"))
    with pytest.raises(ValueError, match="32 bytes"):
        load_private_key(b"short")


def test_sign_refuses_a_manifest_naming_another_signer():
    manifest = make_manifest(key=OTHER)
    with pytest.raises(ValueError, match="names signer"):
        sign(manifest, KEY)


def test_the_signature_is_ed25519_over_the_canonical_bytes():
    manifest = make_manifest()
    signature = base64.b64decode(sign(manifest, KEY))
    KEY.public_key().verify(signature, canonical(manifest))  # raises if not


# --- the zip ----------------------------------------------------------------------------


def test_the_zip_holds_the_manifest_signature_key_and_files_all_stored():
    manifest = make_manifest()
    signature = sign(manifest, KEY)
    out = io.BytesIO()
    write_zip(out, manifest, signature, KEY.public_key(), lambda e: io.BytesIO(FILES[e.path]))

    with zipfile.ZipFile(out) as archive:
        infos = archive.infolist()
        assert [info.filename for info in infos] == [
            "manifest.json",
            "manifest.sig",
            "signer.pub",
            *(f"files/{path}" for path in sorted(FILES)),
        ]
        assert {info.compress_type for info in infos} == {zipfile.ZIP_STORED}
        assert archive.read("manifest.json") == canonical(manifest)
        assert archive.read("manifest.sig") == f"{signature}\n".encode()
        assert archive.read("signer.pub") == f"{public_key_b64(KEY.public_key())}\n".encode()
        for path, data in FILES.items():
            assert archive.read(f"files/{path}") == data


@pytest.mark.parametrize(
    "photo", [b"another photo", bytes(reversed(FILES["photos/0002-scene.jpg"]))]
)
def test_write_zip_refuses_a_document_that_changed_since_it_was_hashed(tmp_path, photo):
    manifest = make_manifest()
    changed = {**FILES, "photos/0002-scene.jpg": photo}  # another size, or the same size
    target = tmp_path / "package.zip"
    with pytest.raises(ValueError, match="photos/0002-scene.jpg is not the file that was hashed"):
        write_zip(
            target,
            manifest,
            sign(manifest, KEY),
            KEY.public_key(),
            lambda e: io.BytesIO(changed[e.path]),
        )
    assert not target.exists()


def test_write_zip_refuses_a_signature_that_is_not_the_keys_over_the_manifest():
    manifest = make_manifest()
    stale = sign(make_manifest(request="另一项请求"), KEY)
    with pytest.raises(ValueError, match="does not match"):
        write_zip(
            io.BytesIO(), manifest, stale, KEY.public_key(), lambda e: io.BytesIO(FILES[e.path])
        )
    with pytest.raises(ValueError, match="not signed by key"):
        write_zip(
            io.BytesIO(), manifest, sign(manifest, KEY), OTHER.public_key(), lambda e: io.BytesIO()
        )


def test_digest_gives_the_sha256_and_size_of_a_stream():
    data = os.urandom(3 * 1024 * 1024 + 17)  # several chunks
    assert digest(io.BytesIO(data)) == (hashlib.sha256(data).hexdigest(), len(data))


# --- tampering --------------------------------------------------------------------------


@PLENTY
@given(files=file_sets, data=st.data())
def test_flipping_any_byte_of_a_file_in_the_zip_is_file_changed_of_that_file_only(files, data):
    zipped = bytearray(package(files))
    path = data.draw(st.sampled_from(sorted(files)))
    offset = data.draw(st.integers(0, len(files[path]) - 1))
    start = data_offset(bytes(zipped), f"files/{path}")
    assert zipped[start : start + len(files[path])] == files[path]

    zipped[start + offset] ^= data.draw(st.integers(1, 255))

    assert found(check(bytes(zipped))) == [("file.changed", path)]


@PLENTY
@given(files=file_sets, data=st.data())
def test_verify_on_files_reports_the_changed_file_only(files, data):
    manifest = make_manifest(files)
    path = data.draw(st.sampled_from(sorted(files)))
    changed = bytearray(files[path])
    changed[data.draw(st.integers(0, len(changed) - 1))] ^= data.draw(st.integers(1, 255))
    held = {**files, path: bytes(changed)}

    verdict = verify(
        canonical(manifest), sign(manifest, KEY), TRUSTED, lambda p: io.BytesIO(held[p]), held
    )

    assert found(verdict) == [("file.changed", path)]


def leaves(value, where=()):
    """Every (path, value) of a JSON value's scalars."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*where, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from leaves(item, (*where, i))
    else:
        yield where, value


@PLENTY
@given(data=st.data())
def test_changing_any_value_of_the_manifest_breaks_the_signature(data):
    manifest = make_manifest()
    signature = sign(manifest, KEY)
    where, _ = data.draw(
        st.sampled_from([leaf for leaf in leaves(manifest) if leaf[0] != ("signer",)])
    )
    changed = json.loads(canonical(manifest))
    target = changed
    for step in where[:-1]:
        target = target[step]
    target[where[-1]] = data.draw(st.one_of(st.text(), st.integers(), st.booleans(), st.none()))
    assume(canonical(changed) != canonical(manifest))
    members = [("manifest.json", canonical(changed)), ("manifest.sig", signature.encode())]
    members += [(f"files/{path}", body) for path, body in FILES.items()]

    verdict = check(craft(members))

    assert not verdict.ok
    assert "signature.invalid" in [problem.code for problem in verdict.problems]


def test_a_package_signed_by_a_key_not_trusted_is_signer_unknown():
    verdict = check(package(key=OTHER))
    assert found(verdict) == [("signer.unknown", "")]
    assert not verdict.signer_checked
    assert verdict.signer == key_id(OTHER.public_key())


def test_a_package_claiming_a_trusted_signer_but_signed_by_another_key_is_invalid():
    manifest = make_manifest()  # names KEY as its signer
    forged = base64.b64encode(OTHER.sign(canonical(manifest))).decode()
    members = [("manifest.json", canonical(manifest)), ("manifest.sig", forged.encode())]
    members += [(f"files/{path}", body) for path, body in FILES.items()]
    assert found(check(craft(members))) == [("signature.invalid", "")]


def test_a_manifest_that_is_not_canonical_is_malformed_even_when_signed():
    manifest = make_manifest()
    pretty = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
    signature = base64.b64encode(KEY.sign(pretty)).decode()
    members = [("manifest.json", pretty), ("manifest.sig", signature.encode())]
    members += [(f"files/{path}", body) for path, body in FILES.items()]
    verdict = check(craft(members))
    assert found(verdict) == [("manifest.malformed", "")]
    assert "canonical" in verdict.problems[0].message_en


@pytest.mark.parametrize("unsafe", ["../x", "/etc/x", "a//b", "a\\b"])
def test_an_unsafe_path_in_a_crafted_zip_is_refused_at_verify(unsafe):
    body = b"outside"
    manifest = make_manifest()
    manifest["entries"].append(
        {
            "path": unsafe,
            "sha256": hashlib.sha256(body).hexdigest(),
            "size": 7,
            "kind": "k",
            "title": "t",
        }
    )
    manifest["entries"].sort(key=lambda entry: entry["path"])
    members = [
        ("manifest.json", canonical(manifest)),
        ("manifest.sig", sign(manifest, KEY).encode()),
    ]
    members += [(f"files/{path}", data) for path, data in FILES.items()]
    members += [(f"files/{unsafe}", body), (unsafe, body)]

    verdict = check(craft(members))

    assert not verdict.ok
    assert sorted(found(verdict)) == sorted(
        [("path.unsafe", unsafe), ("path.unsafe", f"files/{unsafe}"), ("path.unsafe", unsafe)]
    )


def test_a_name_twice_in_the_zip_is_refused():
    members = members_of(package())
    members.append(("files/photos/0002-scene.jpg", b"a second copy"))
    assert found(check(craft(members))) == [("path.unsafe", "files/photos/0002-scene.jpg")]


def test_a_file_not_in_the_manifest_is_unexpected():
    members = members_of(package())
    members += [("files/documents/9999-extra.pdf", b"slipped in"), ("readme.txt", b"hi")]
    assert sorted(found(check(craft(members)))) == [
        ("file.unexpected", "documents/9999-extra.pdf"),
        ("file.unexpected", "readme.txt"),
    ]


def test_a_file_missing_from_the_zip_is_file_missing():
    members = [m for m in members_of(package()) if m[0] != "files/photos/0002-scene.jpg"]
    assert found(check(craft(members))) == [("file.missing", "photos/0002-scene.jpg")]


@pytest.mark.parametrize("change", [lambda d: d[:-1], lambda d: d + b"!"])
def test_a_file_of_another_size_is_file_size(change):
    members = [
        (name, change(data) if name == "files/photos/0002-scene.jpg" else data)
        for name, data in members_of(package())
    ]
    assert found(check(craft(members))) == [("file.size", "photos/0002-scene.jpg")]


def test_a_compressed_member_is_refused_as_unreadable():
    members = members_of(package())
    stored = craft([m for m in members if m[0] != "files/photos/0002-scene.jpg"])
    out = io.BytesIO(stored)
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr(
            "files/photos/0002-scene.jpg", FILES["photos/0002-scene.jpg"], zipfile.ZIP_DEFLATED
        )
    verdict = check(out.getvalue())
    assert found(verdict) == [("file.unreadable", "photos/0002-scene.jpg")]
    assert "compressed" in verdict.problems[0].message_en


def test_every_problem_is_reported_not_only_the_first():
    members = []
    for name, data in members_of(package()):
        if name == "files/photos/0002-scene.jpg":
            continue
        if name == "files/documents/0001-acceptance-v1.pdf":
            data = data.replace(b"acceptance", b"ACCEPTANCE", 1)
        members.append((name, data))
    members.append(("files/documents/9999-extra.pdf", b"slipped in"))
    assert found(check(craft(members))) == [
        ("file.changed", "documents/0001-acceptance-v1.pdf"),
        ("file.missing", "photos/0002-scene.jpg"),
        ("file.unexpected", "documents/9999-extra.pdf"),
    ]


@PLENTY
@given(data=st.data())
def test_a_truncated_zip_is_malformed_without_an_exception(data):
    zipped = package()
    cut = data.draw(st.integers(0, len(zipped) - 1))
    assert found(check(zipped[:cut])) == [("manifest.malformed", "")]


@PLENTY
@given(garbage=st.binary(max_size=2000))
def test_garbage_is_malformed_without_an_exception(garbage):
    verdict = check(garbage)
    assert not verdict.ok
    assert ("manifest.malformed", "") in found(verdict)


@PLENTY
@given(data=st.data())
def test_a_byte_flipped_anywhere_never_raises_and_is_refused_inside_signed_content(data):
    zipped = package()
    offset = data.draw(st.integers(0, len(zipped) - 1))
    flipped = bytearray(zipped)
    flipped[offset] ^= data.draw(st.integers(1, 255))

    verdict = check(bytes(flipped))  # never raises

    signed = [("manifest.json", len(canonical(make_manifest())))]
    signed += [(f"files/{path}", len(body)) for path, body in FILES.items()]
    inside = any(
        data_offset(zipped, n) <= offset < data_offset(zipped, n) + size for n, size in signed
    )
    if inside:
        assert not verdict.ok


def test_a_zip_without_a_manifest_is_malformed():
    members = [m for m in members_of(package()) if m[0] != "manifest.json"]
    assert found(check(craft(members))) == [("manifest.malformed", "")]


# --- trusting the embedded key ----------------------------------------------------------


def test_trusting_the_embedded_key_verifies_but_says_the_signer_was_not_checked():
    verdict = check(package(), trusted=None, trust_embedded=True)
    assert verdict.ok and verdict.problems == []
    assert not verdict.signer_checked


def test_an_embedded_key_never_makes_a_stranger_trusted():
    forged = package(key=OTHER)  # anyone can sign and embed their own key
    assert found(check(forged)) == [("signer.unknown", "")]
    embedded = check(forged, trust_embedded=True)
    assert embedded.ok and not embedded.signer_checked
    assert check(package(), trust_embedded=True).signer_checked  # the key is also trusted


# --- interoperability: OpenSSL as a receiver outside casecenter would use it -------------


def openssl_verifies(tmp_path: Path, manifest: bytes, signature: bytes, public_b64: str) -> bool:
    (tmp_path / "manifest.json").write_bytes(manifest)
    (tmp_path / "manifest.sig.bin").write_bytes(base64.b64decode(signature))
    pem = f"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA{public_b64}\n-----END PUBLIC KEY-----\n"
    (tmp_path / "key.pem").write_text(pem)
    result = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "key.pem", "-rawin"]
        + ["-in", "manifest.json", "-sigfile", "manifest.sig.bin"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    return result.returncode == 0 and "Signature Verified Successfully" in result.stdout


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs OpenSSL 3")
def test_openssl_verifies_the_signature_with_the_documented_recipe(tmp_path):
    archive = zipfile.ZipFile(io.BytesIO(package()))
    manifest, signature = archive.read("manifest.json"), archive.read("manifest.sig")
    public = archive.read("signer.pub").decode().strip()
    assert openssl_verifies(tmp_path, manifest, signature, public)
    assert not openssl_verifies(tmp_path, manifest.replace(b"ZGC-YJ", b"ZGC-YX"), signature, public)


# --- casecenter package verify ------------------------------------------------------------


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("package", *args, stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue()


@pytest.fixture
def zipped(tmp_path) -> Path:
    path = tmp_path / "package.zip"
    path.write_bytes(package())
    return path


@pytest.fixture
def tampered(tmp_path) -> Path:
    zipped = bytearray(package())
    zipped[data_offset(bytes(zipped), "files/documents/0003-interrogation_record-v2.pdf") + 5] ^= 1
    path = tmp_path / "tampered.zip"
    path.write_bytes(bytes(zipped))
    return path


KEY_B64 = public_key_b64(KEY.public_key())


@pytest.mark.django_db  # the command also trusts the keys registered in the database
def test_command_verifies_a_good_package_and_exits_0(zipped):
    code, out = run("verify", str(zipped), "--key", KEY_B64)
    lines = out.splitlines()
    assert code == 0
    assert lines[-1] == "通过 / VERIFIED"
    assert f"签名 / signer     {key_id(KEY.public_key())}  可信密钥 / trusted key" in lines
    assert "  OK    documents/0003-interrogation_record-v2.pdf" in lines
    assert "案件 / case       ZGC-XS-2026-00042 电动车被盗案" in lines


@pytest.mark.django_db  # the command also trusts the keys registered in the database
def test_command_refuses_a_tampered_package_naming_the_file_and_exits_1(tampered):
    code, out = run("verify", str(tampered), "--key", KEY_B64)
    assert code == 1
    assert out.splitlines()[-1] == (
        "拒绝 / REFUSED: file.changed documents/0003-interrogation_record-v2.pdf"
    )
    assert "  FAIL  documents/0003-interrogation_record-v2.pdf  file.changed:" in out
    assert "  OK    documents/0001-acceptance-v1.pdf" in out


@pytest.mark.django_db  # the command also trusts the keys registered in the database
def test_command_without_a_trusted_key_refuses_and_says_how_to_give_one(zipped):
    code, out = run("verify", str(zipped))
    assert code == 1
    assert out.splitlines()[-1] == "拒绝 / REFUSED: signer.unknown"
    assert "no trusted key given (--key, --key-file)" in out


@pytest.mark.django_db  # the command also trusts the keys registered in the database
def test_command_trusting_the_embedded_key_says_the_signer_was_not_checked(zipped):
    code, out = run("verify", str(zipped), "--trust-embedded")
    assert code == 0
    assert out.splitlines()[-1] == (
        "通过 / VERIFIED (签名者未与已知密钥核对 / signer not checked against a known key)"
    )
    assert "embedded key only, NOT checked" in out


@pytest.mark.django_db  # the command also trusts the keys registered in the database
def test_command_reads_keys_from_files_base64_or_pem(zipped, tmp_path):
    listed = tmp_path / "keys.txt"
    listed.write_text(f"# 检察院的可信密钥\n{public_key_b64(OTHER.public_key())}\n\n{KEY_B64}\n")
    pem = tmp_path / "key.pem"
    pem.write_text(
        f"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA{KEY_B64}\n-----END PUBLIC KEY-----\n"
    )
    assert run("verify", str(zipped), "--key-file", str(listed))[0] == 0
    assert run("verify", str(zipped), "--key-file", str(pem))[0] == 0


@pytest.mark.django_db  # the command also trusts the keys registered in the database
def test_command_prints_the_verdict_as_json(tampered):
    code, out = run("verify", str(tampered), "--key", KEY_B64, "--json")
    report = json.loads(out)
    assert code == 1
    assert (report["ok"], report["signer_checked"], report["file"]) == (False, True, str(tampered))
    assert [(p["code"], p["path"]) for p in report["problems"]] == [
        ("file.changed", "documents/0003-interrogation_record-v2.pdf")
    ]
    assert report["manifest"]["package"] == "ZGC-YJ-2026-0007"


@pytest.mark.django_db  # the command also trusts the keys registered in the database
def test_command_shortens_a_long_list_of_reasons(tmp_path):
    files = {f"documents/{n:04d}.pdf": b"x" * n for n in range(1, 9)}
    members = [
        (name, data + b"!" if name.startswith("files/") else data)
        for name, data in members_of(package(files))
    ]
    path = tmp_path / "many.zip"
    path.write_bytes(craft(members))
    code, out = run("verify", str(path), "--key", KEY_B64)
    assert code == 1
    assert out.splitlines()[-1].endswith("file.size documents/0005.pdf; 另有 3 项 / and 3 more")


@pytest.mark.django_db  # the command also trusts the keys registered in the database
def test_command_usage_errors_are_command_errors_with_exit_code_2(zipped, tmp_path):
    for args in (
        ("verify", str(tmp_path / "no-such.zip")),
        ("verify", str(zipped), "--key", "not-a-key"),
        ("verify", str(zipped), "--key-file", str(tmp_path / "no-such-keys")),
    ):
        with pytest.raises(CommandError) as error:
            call_command("package", *args)
        assert error.value.returncode == 2


@pytest.mark.django_db  # the command also trusts the keys registered in the database
def test_command_reports_a_non_zip_as_malformed(tmp_path):
    path = tmp_path / "not.zip"
    path.write_bytes(b"%PDF-1.7 this is not a zip")
    code, out = run("verify", str(path), "--key", KEY_B64)
    assert code == 1
    assert out.splitlines()[-1] == "拒绝 / REFUSED: manifest.malformed"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [str(CASECENTER)] if CASECENTER.exists() else [sys.executable, "-m", "casecenter.cli"]
    env = {**os.environ, "CASECENTER_DATA_DIR": os.environ.get("CASECENTER_DATA_DIR", str(cwd))}
    return subprocess.run(
        [*command, "package", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_real_cli_exits_1_on_a_tampered_package_and_2_on_a_missing_file(tampered, tmp_path):
    result = cli("verify", str(tampered), "--key", KEY_B64, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert (
        "file.changed documents/0003-interrogation_record-v2.pdf" in result.stdout.splitlines()[-1]
    )

    missing = cli("verify", str(tmp_path / "no-such.zip"), cwd=tmp_path)
    assert missing.returncode == 2
    assert "no such file" in missing.stderr


def test_a_zip_asking_for_a_version_zipfile_cannot_read_is_malformed():
    """Hypothesis found it: one flipped byte in the central directory's "version
    needed to extract" made zipfile raise NotImplementedError."""
    zipped = bytearray(package())
    central = zipped.index(b"PK\x01\x02")
    zipped[central + 6] = 84  # version 8.4
    assert found(check(bytes(zipped))) == [("manifest.malformed", "")]
