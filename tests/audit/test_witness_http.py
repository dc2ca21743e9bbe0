"""Witnesses over HTTP (C2SP tlog-witness): the sequencer as client, casecenter as witness.

Real HTTP throughout: pytest-django's ``live_server`` serves this casecenter,
which is told to witness its own log, and the sequencer pushes each new
checkpoint to it through ``CASECENTER_AUDIT_WITNESSES`` — the same requests
the procuratorate's casecenter gets from the police's. The witness writes its
own audit entries (cosigned, refused) into the same log here, so sizes below
are read from what the sequencer did rather than counted by hand.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from casecenter.audit import note, sequencer, signing, witness, witness_server
from casecenter.audit.merkle import EMPTY_ROOT
from casecenter.audit.models import AuditEntry, WitnessedLog, WitnessKey, WitnessState

from .conftest import (
    edited_leaf,
    guard_lifted,
    leaf_hash_of,
    rebuild_tree_as_attacker,
    write_entries,
)

pytestmark = pytest.mark.django_db(transaction=True)

COSIGNED = "audit.witness_cosigned"
REFUSED = "audit.witness_refused"


@pytest.fixture(autouse=True)
def no_rest():
    """Each test starts with no witness left alone after an earlier test's failure."""
    witness._resting.clear()
    yield
    witness._resting.clear()


@pytest.fixture
def prefix(live_server) -> str:
    """The witness's submission prefix: this casecenter, served live."""
    return f"{live_server.url}/witness"


@pytest.fixture
def witness_vkey() -> note.CosignatureVerifier:
    key = note.parse_verifier_key(witness_server.verifier_key())
    assert isinstance(key, note.CosignatureVerifier)
    return key


@pytest.fixture
def followed(settings, prefix, witness_vkey) -> WitnessedLog:
    """The witness follows this log, and the log pushes to it (with the witness's key)."""
    log_keys = [signing.verifier(signing.active_key()).verifier_key()]
    row = witness_server.follow_log(None, signing.origin(), log_keys)
    settings.CASECENTER_AUDIT_WITNESSES = [f"{prefix}#{witness_vkey.verifier_key()}"]
    return row


def integrate(caplog) -> sequencer.Integrated:
    """One integration (what the worker does), its witness problems in ``caplog``."""
    with caplog.at_level(logging.WARNING, logger="casecenter.audit.sequencer"):
        done = sequencer.integrate()
    assert done is not None  # whatever the witness says, the log goes on
    return done


def witnessed_log(caplog, count: int = 10) -> sequencer.Integrated:
    """A log of ``count`` entries and more, its latest checkpoint cosigned by the witness."""
    write_entries(count)
    done = integrate(caplog)
    assert WitnessedLog.objects.get().size == done.size
    return done


def actions(action: str) -> list[dict]:
    return [e.data for e in AuditEntry.objects.filter(action=action).order_by("id")]


def post(prefix: str, body: bytes) -> tuple[int, str, str]:
    """A raw add-checkpoint request over HTTP: status, media type, body."""
    status, media, answer = witness._post(prefix + "/add-checkpoint", body)
    return status, media, answer.decode()


def submission(old: int, signed: str, proof: list[bytes] = ()) -> bytes:
    lines = [f"old {old}", *(base64.b64encode(h).decode() for h in proof), ""]
    return ("\n".join(lines) + "\n" + signed).encode()


def body_of(signed: str) -> str:
    return signed[: signed.rindex("\n\n") + 1]


# -- the sequencer pushes, the witness cosigns ---------------------------------------------


def test_each_checkpoint_is_cosigned_by_the_live_witness(followed, prefix, witness_vkey, caplog):
    write_entries(3)
    first = integrate(caplog)
    write_entries(2)
    second = integrate(caplog)

    assert "not witnessed" not in caplog.text
    row = WitnessedLog.objects.get()
    assert (row.size, bytes(row.root)) == (second.size, second.root)
    state = WitnessState.objects.get()
    assert (state.url, state.size) == (prefix, second.size)
    # the cosignature the log kept verifies with the witness's key, on the log's checkpoint
    opened = note.open_note(second.checkpoint + state.cosignature, [witness_vkey])
    (cosignature,) = opened.signatures
    raw = base64.b64decode(cosignature.base64)
    assert len(raw) == 4 + 8 + 64  # key ID ‖ timestamp ‖ Ed25519 signature
    assert int.from_bytes(raw[:4], "big") == witness_vkey.key_hash
    assert int.from_bytes(raw[4:12], "big") > 0  # never the zero timestamp
    assert note.cosignature_time(cosignature) <= timezone.now()
    # the witness keeps the checkpoint with the log's signature and its cosignature
    checkpoint, both = note.open_checkpoint(
        row.checkpoint, signing.origin(), signing.verifiers()[0], witness_vkey
    )
    assert (checkpoint.size, len(both.signatures)) == (second.size, 2)
    assert body_of(row.checkpoint) == body_of(second.checkpoint)
    # each cosigned checkpoint is in the witness's audit trail, the first from the empty tree
    cosigned = actions(COSIGNED)
    assert [(c["old_size"], c["size"]) for c in cosigned] == [
        (0, first.size),
        (first.size, second.size),
    ]
    assert cosigned[1]["origin"] == signing.origin()


def test_the_witnessed_checkpoint_verifies_the_log_from_the_command_line(
    followed, caplog, tmp_path
):
    done = witnessed_log(caplog)
    write_entries(4)
    sequencer.integrate(witnesses=[])  # the log grew past what the witness holds
    out = tmp_path / "witnessed"

    call_command("audit", "witness-log", "show", signing.origin(), "--out", str(out))
    assert body_of(out.read_text()) == body_of(done.checkpoint)
    printed = io.StringIO()
    call_command("audit", "verify", "--checkpoint", str(out), stdout=printed)

    assert "audit log OK" in printed.getvalue()


def test_the_same_checkpoint_again_is_cosigned_again(followed, prefix, witness_vkey, caplog):
    done = witnessed_log(caplog)

    status, _, answer = post(prefix, submission(done.size, done.checkpoint))

    assert status == 200
    assert note.open_note(done.checkpoint + answer, [witness_vkey]).signatures
    assert WitnessedLog.objects.get().size == done.size
    assert len(actions(COSIGNED)) == 2


def test_a_checkpoint_adding_only_witness_records_is_not_pushed(followed, caplog):
    """Two casecenters witnessing each other would otherwise trade checkpoints for ever."""
    done = witnessed_log(caplog)
    waiting = AuditEntry.objects.filter(seq__isnull=True).values_list("action", flat=True)
    assert list(waiting) == [COSIGNED]

    quiet = integrate(caplog)  # only the witness's record of the last push

    assert quiet.size == done.size + 1
    assert WitnessedLog.objects.get().size == done.size
    assert len(actions(COSIGNED)) == 1
    assert sequencer.integrate() is None  # nothing new: the exchange stops
    write_entries(1)
    later = integrate(caplog)  # something else happened: pushed, with the records before it
    assert WitnessedLog.objects.get().size == later.size
    assert actions(COSIGNED)[-1]["old_size"] == done.size


# -- 409: the witness has another size -----------------------------------------------------


def test_a_log_that_forgot_what_was_cosigned_recovers_from_the_409(followed, caplog):
    first = witnessed_log(caplog)
    WitnessState.objects.all().delete()  # the log believes the witness has nothing

    write_entries(1)
    second = integrate(caplog)

    assert "not witnessed" not in caplog.text
    assert WitnessedLog.objects.get().size == second.size
    assert WitnessState.objects.get().size == second.size
    (refusal,) = actions(REFUSED)
    assert (refusal["status"], refusal["old_size"], refusal["cosigned_size"]) == (
        409,
        0,
        first.size,
    )
    assert actions(COSIGNED)[-1]["old_size"] == first.size  # the retry, with its proof


def test_a_witness_behind_the_log_is_caught_up_from_its_own_size(followed, caplog):
    write_entries(3)
    behind = integrate(caplog)
    witnessed_log(caplog, 5)
    # the witness is back at an older checkpoint (restored from a backup, say)
    WitnessedLog.objects.update(size=behind.size, root=behind.root)

    write_entries(1)
    done = integrate(caplog)

    assert "not witnessed" not in caplog.text
    assert WitnessedLog.objects.get().size == done.size
    assert actions(COSIGNED)[-1]["old_size"] == behind.size


def test_the_409_names_the_cosigned_size_as_text_x_tlog_size(followed, prefix, caplog):
    done = witnessed_log(caplog)

    status, media, answer = post(prefix, submission(1, done.checkpoint, [b"\0" * 32]))

    assert (status, media, answer) == (409, "text/x.tlog.size", f"{done.size}\n")


# -- refusals: a rewritten or truncated log, a wrong key, an unknown log ---------------------


def test_a_rewritten_log_is_refused_with_422_and_caught_by_verify(
    followed, tamper, caplog, tmp_path
):
    held = witnessed_log(caplog)
    kept = WitnessedLog.objects.get().checkpoint
    forged = edited_leaf(AuditEntry.objects.get(seq=4).leaf, reason="nothing happened")
    assert tamper(4, leaf=forged, leaf_hash=leaf_hash_of(forged)) == 1
    rebuild_tree_as_attacker()

    write_entries(1)
    done = integrate(caplog)

    assert "refused (HTTP 422)" in caplog.text
    assert "the log was rewritten or truncated" in caplog.text
    row = WitnessedLog.objects.get()
    assert (row.size, row.checkpoint) == (held.size, kept)  # the witness kept the old one
    assert WitnessState.objects.get().size == held.size
    (refusal,) = actions(REFUSED)
    assert (refusal["status"], refusal["size"], refusal["cosigned_size"]) == (
        422,
        done.size,
        held.size,
    )
    # the witness's copy, taken to the log's verifier, catches the rewrite
    out = tmp_path / "witnessed"
    call_command("audit", "witness-log", "show", signing.origin(), "--out", str(out))
    printed = io.StringIO()
    with pytest.raises(SystemExit) as exit_code:
        call_command("audit", "verify", "--checkpoint", str(out), stdout=printed)
    assert exit_code.value.code == 1
    assert "audit log TAMPERED" in printed.getvalue()
    assert f"checkpoint {out}" in printed.getvalue()


def test_a_truncated_log_is_refused_and_the_witness_keeps_its_checkpoint(followed, caplog):
    held = witnessed_log(caplog)
    kept = WitnessedLog.objects.get().checkpoint
    with guard_lifted():
        AuditEntry.objects.filter(seq__gte=5).delete()
    rebuild_tree_as_attacker()

    write_entries(1)
    done = integrate(caplog)

    assert done.size < held.size
    assert "refused (HTTP 400)" in caplog.text
    assert WitnessedLog.objects.get().checkpoint == kept
    (refusal,) = actions(REFUSED)
    assert (refusal["status"], refusal["old_size"], refusal["size"]) == (400, held.size, done.size)


def test_a_fork_signed_with_the_logs_own_key_is_refused(followed, prefix, caplog):
    done = witnessed_log(caplog)
    other = signing.sign_checkpoint(done.size, b"\x01" * 32, timezone.now(), signing.active_key())

    status, _, answer = post(prefix, submission(done.size, other))

    assert (status, answer) == (
        422,
        f"same size {done.size}, different root from the one cosigned\n",
    )
    assert WitnessedLog.objects.get().root == done.root


def test_a_checkpoint_signed_with_another_key_is_refused_with_403(settings, prefix, caplog):
    stranger = note.Signer(signing.origin(), os.urandom(32)).verifier().verifier_key()
    witness_server.follow_log(None, signing.origin(), [stranger])
    settings.CASECENTER_AUDIT_WITNESSES = [prefix]
    write_entries(2)

    integrate(caplog)

    assert "refused (HTTP 403)" in caplog.text
    assert WitnessedLog.objects.get().size == 0
    assert [r["status"] for r in actions(REFUSED)] == [403]
    assert not WitnessState.objects.exists()


def test_a_log_the_witness_does_not_follow_gets_404_and_no_audit_entry(settings, prefix, caplog):
    settings.CASECENTER_AUDIT_WITNESSES = [prefix]
    write_entries(2)

    integrate(caplog)

    assert "refused (HTTP 404)" in caplog.text
    assert f"it does not witness the log '{signing.origin()}'" in caplog.text
    assert not actions(REFUSED)
    assert not WitnessedLog.objects.exists()


def test_a_witness_answering_with_another_key_is_not_believed(settings, followed, prefix, caplog):
    impostor = witness_server.Cosigner("someone.else/witness", os.urandom(32)).verifier
    settings.CASECENTER_AUDIT_WITNESSES = [f"{prefix}#{impostor.verifier_key()}"]
    write_entries(2)

    integrate(caplog)

    assert "no cosignature by its key someone.else/witness+" in caplog.text
    assert not WitnessState.objects.exists()


# -- the protocol's edges, sent by hand ------------------------------------------------------


@pytest.fixture
def checkpoint(followed, caplog) -> sequencer.Integrated:
    """A signed checkpoint of the followed log, not yet sent to the witness."""
    write_entries(3)
    return sequencer.integrate(witnesses=[])


def test_the_first_checkpoint_needs_no_proof_and_refuses_one(checkpoint, prefix):
    status, _, _ = post(prefix, submission(0, checkpoint.checkpoint, [b"\0" * 32]))
    assert status == 422
    status, _, answer = post(prefix, submission(0, checkpoint.checkpoint))
    assert status == 200
    assert answer.startswith(f"— {witness_server.witness_name()} ")


def test_an_empty_tree_must_have_the_empty_root(followed, prefix):
    key = signing.active_key()
    empty = signing.sign_checkpoint(0, EMPTY_ROOT, timezone.now(), key)
    wrong = signing.sign_checkpoint(0, b"\x02" * 32, timezone.now(), key)

    assert post(prefix, submission(0, wrong))[0] == 422
    assert post(prefix, submission(0, empty))[0] == 200


def test_a_proof_that_does_not_verify_is_refused(checkpoint, prefix):
    assert post(prefix, submission(0, checkpoint.checkpoint))[0] == 200
    write_entries(2)
    later = sequencer.integrate(witnesses=[])

    status, _, _ = post(prefix, submission(checkpoint.size, later.checkpoint, [b"\3" * 32] * 3))

    assert status == 422
    assert WitnessedLog.objects.get().size == checkpoint.size


def _bodies(signed: str) -> dict[str, bytes]:
    good = body_of(signed)
    signatures = signed[len(good) + 1 :]
    return {
        "empty": b"",
        "no blank line": b"old 0\n" + signed.encode(),
        "no old line": b"\n" + signed.encode(),
        "old with a leading zero": submission(0, signed).replace(b"old 0", b"old 00"),
        "old negative": submission(0, signed).replace(b"old 0", b"old -1"),
        "old beyond 2**64": submission(0, signed).replace(b"old 0", b"old " + b"9" * 20),
        "old in words": submission(0, signed).replace(b"old 0", b"old zero"),
        "a proof line not base64": b"old 0\nnot base64!\n\n" + signed.encode(),
        "a proof line of 31 bytes": submission(0, signed, [b"\0" * 31]),
        "64 proof lines": submission(0, signed, [b"\0" * 32] * 64),
        "not UTF-8": b"old 0\n\n\xff\xfe" + signed.encode(),
        "a control character": submission(0, signed.replace("\n", "\n\x01", 1)),
        "no signature": submission(0, good + "\n"),
        "a garbled signature line": submission(0, good + "\n— x\n"),
        "not a checkpoint": submission(0, "hello\n\n" + signatures),
        "a size with a leading zero": submission(0, signed.replace("\n", "\n0", 1)),
    }


@pytest.mark.parametrize("case", sorted(_bodies("o\n1\nAA==\n\n— o AAAAAAA=\n")))
def test_a_malformed_body_is_a_400_never_a_500(checkpoint, prefix, case):
    status, media, answer = post(prefix, _bodies(checkpoint.checkpoint)[case])

    assert status == 400, answer
    assert media == "text/plain"
    assert WitnessedLog.objects.get().size == 0
    assert not actions(REFUSED)


def test_a_tree_too_large_to_store_is_refused(followed, prefix):
    huge = signing.sign_checkpoint(2**63, b"\4" * 32, timezone.now(), signing.active_key())
    status, _, answer = post(prefix, submission(0, huge))
    assert (status, answer) == (422, f"a tree of more than {2**63 - 1} entries is not stored\n")


def test_an_old_size_beyond_the_checkpoint_is_a_400(checkpoint, prefix):
    status, _, answer = post(prefix, submission(checkpoint.size + 1, checkpoint.checkpoint))
    assert (status, answer) == (
        400,
        f"old size {checkpoint.size + 1} is larger than the checkpoint's {checkpoint.size}\n",
    )
    assert [r["status"] for r in actions(REFUSED)] == [400]  # a known log, its key: evidence


def test_a_body_over_the_limit_is_a_413(checkpoint, prefix):
    padding = b"A" * witness_server.MAX_BODY
    assert post(prefix, submission(0, checkpoint.checkpoint) + padding)[0] == 413


def test_only_post_is_answered(live_server):
    assert Client().get("/witness/add-checkpoint").status_code == 405


def test_no_csrf_token_and_no_session_are_needed(checkpoint, make_officer):
    body = submission(0, checkpoint.checkpoint)
    anonymous = Client(enforce_csrf_checks=True)
    logged_in = Client(enforce_csrf_checks=True)
    logged_in.force_login(make_officer("zhang"))

    first = anonymous.post("/witness/add-checkpoint", body, content_type="text/plain")
    again = logged_in.post("/witness/add-checkpoint", body, content_type="text/plain")

    assert (first.status_code, again.status_code) == (200, 409)  # the log's signature decides
    assert again.content == f"{checkpoint.size}\n".encode()
    assert again["Content-Type"] == "text/x.tlog.size"  # exactly: Go's client compares it whole


# -- the client: unreachable witnesses, configuration -------------------------------------


@pytest.fixture
def silent_witness() -> Iterator[tuple[str, list[socket.socket]]]:
    """A loopback server that accepts connections and never answers; the connections."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/witness", accepted
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_a_silent_witness_times_out_and_is_left_alone(
    settings, monkeypatch, silent_witness, caplog
):
    url, accepted = silent_witness
    monkeypatch.setattr(witness, "TIMEOUT_SECONDS", 0.3)
    settings.CASECENTER_AUDIT_WITNESSES = [url]
    write_entries(1)

    first = integrate(caplog)
    write_entries(1)
    second = integrate(caplog)

    assert second.size == first.size + 1  # the sequencer went on
    assert "cannot be reached" in caplog.text
    assert f"left alone for {witness.REST_SECONDS:.0f} s" in caplog.text
    assert len(accepted) == 1  # the second integration did not wait for it again
    assert not WitnessState.objects.exists()


@pytest.fixture
def scripted_witness() -> Iterator[tuple[str, list, list[bytes]]]:
    """A loopback HTTP server answering each POST with the next of its script.

    Yields its prefix, the script (``(status, headers, body)`` to append to) and
    the bodies it received.
    """
    script: list[tuple[int, dict[str, str], bytes]] = []
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server hook
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            status, headers, body = script.pop(0)
            self.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/w", script, received
    server.shutdown()
    server.server_close()
    thread.join()


SIZE = {"Content-Type": "text/x.tlog.size"}


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        ([(409, {}, b"")], "refused (HTTP 409): it has cosigned another size than 0"),
        ([(409, SIZE, b"twelve\n")], "a 409 without a tree size: twelve"),
        ([(409, SIZE, b"%d\n" % 2**63)], "a 409 without a tree size"),
        ([(409, SIZE, b"1\n"), (409, SIZE, b"2\n")], "it has cosigned another size than 1"),
        ([(200, {}, b"not a signature\n")], "its answer is not cosignatures"),
        ([(302, {"Location": "http://127.0.0.1:1/"}, b"")], "HTTP 302): it answered unexpectedly"),
        ([(418, {}, b"I'm a teapot\n")], "(HTTP 418): it answered unexpectedly: I'm a teapot"),
        ([(503, {}, b"busy\n")], "HTTP 503: busy; left alone for 30 s"),
        ([(429, {}, b"")], "HTTP 429; left alone for 30 s"),
    ],
)
def test_what_a_witness_answers_wrongly_is_reported(
    settings, scripted_witness, caplog, answers, problem
):
    url, script, received = scripted_witness
    script.extend(answers)
    settings.CASECENTER_AUDIT_WITNESSES = [url]
    write_entries(2)

    integrate(caplog)

    assert problem in caplog.text
    assert len(received) == len(answers)
    assert received[0].startswith(b"old 0\n\ncasecenter.local/audit\n2\n")
    assert WitnessState.objects.filter(size__gt=1).count() == 0


def test_a_witness_that_refuses_connections_is_reported(settings, caplog):
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    settings.CASECENTER_AUDIT_WITNESSES = [f"http://127.0.0.1:{port}/witness"]
    write_entries(1)

    integrate(caplog)

    assert "cannot be reached" in caplog.text


@pytest.mark.parametrize(
    ("url", "prefix", "keyed"),
    [
        ("https://witness.example/", "https://witness.example", False),
        (
            "https://witness.example:8443/spp/witness/",
            "https://witness.example:8443/spp/witness",
            False,
        ),
        ("http://127.0.0.1:8000/witness", "http://127.0.0.1:8000/witness", False),
        ("http://localhost/witness", "http://localhost/witness", False),
        ("http://[::1]:80/witness", "http://[::1]:80/witness", False),
        ("https://witness.example/witness#KEY", "https://witness.example/witness", True),
    ],
)
def test_https_urls_name_tlog_witnesses(witness_vkey, url, prefix, keyed):
    url = url.replace("KEY", witness_vkey.verifier_key())
    (configured,) = witness.configured([url])
    assert configured == witness.HttpWitness(prefix, witness_vkey if keyed else None)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://witness.example/witness", "http:// only to a loopback address"),
        ("http://10.0.0.1/witness", "http:// only to a loopback address"),
        ("https://witness.example/witness?log=1", "write https://host/prefix#"),
        ("https://user:pw@witness.example/witness", "write https://host/prefix#"),
        ("https:///witness", "write https://host/prefix#"),
        ("https://witness.example/witness#garbage", "bad verifier key"),
        ("https://witness.example/witness#LOGKEY", "is not a witness's cosignature key"),
        ("ftp://witness.example/witness", "not a file:///folder or an https:// tlog-witness"),
        ("https://witness.example/" + "w" * 500, "longer than 500 characters"),
    ],
)
def test_a_bad_witness_url_is_a_configuration_error(settings, url, problem):
    url = url.replace("LOGKEY", note.generate_key("casecenter.local/audit")[1])
    settings.CASECENTER_AUDIT_WITNESSES = ["file:///srv/fine", url]
    with pytest.raises(ImproperlyConfigured, match=problem.replace("?", r"\?")):
        witness.folders()


# -- the witness's key and the logs it follows, from the command line ---------------------


def command(*args: str) -> str:
    out = io.StringIO()
    call_command("audit", *args, stdout=out)
    return out.getvalue()


def test_the_witness_key_is_made_once_and_kept_encrypted(settings):
    printed = command("witness-key").strip()

    key = note.parse_verifier_key(printed)
    assert isinstance(key, note.CosignatureVerifier)
    assert key.name == settings.CASECENTER_AUDIT_WITNESS_NAME
    assert command("witness-key").strip() == printed
    stored = WitnessKey.objects.get()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT private_key FROM {WitnessKey._meta.db_table}")  # noqa: S608
        (raw,) = cursor.fetchone()
    assert stored.private_key not in raw  # the column holds a sealed token, not the seed
    assert witness_server.cosigner().verifier == key


def test_witness_log_add_list_show(settings):
    first, second = (note.generate_key("police.example/audit")[1] for _ in range(2))

    added = command("witness-log", "add", "police.example/audit", first)
    command("witness-log", "add", "police.example/audit", second, first)
    listed = command("witness-log", "list")

    assert "witnessing police.example/audit: 1 key(s), cosigned size 0" in added
    assert witness_server.verifier_key() in added
    assert listed == "police.example/audit\tsize 0\tupdated never cosigned\t2 key(s)\n"
    assert WitnessedLog.objects.get().verifier_keys == f"{first}\n{second}\n"
    assert list(AuditEntry.objects.values_list("action", flat=True)) == [
        "audit.witnessed_log_added",
        "audit.witnessed_log_keys_added",
    ]
    with pytest.raises(CommandError, match="no checkpoint of 'police.example/audit' cosigned"):
        command("witness-log", "show", "police.example/audit")
    with pytest.raises(CommandError, match="does not witness the log 'court.example/audit'"):
        command("witness-log", "show", "court.example/audit")


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["police.example/audit"], "give at least one verifier key"),
        (["police.example/audit", "not-a-key"], "a verifier key must read"),
        (["police.example/audit", "WITNESSKEY"], "is a witness key, not a log's"),
        (["", "LOGKEY"], "an origin is one line"),
    ],
)
def test_witness_log_add_refuses_what_it_cannot_use(args, problem):
    args = [
        a.replace("WITNESSKEY", witness_server.verifier_key()).replace(
            "LOGKEY", note.generate_key("x")[1]
        )
        for a in args
    ]
    with pytest.raises(CommandError, match=problem):
        command("witness-log", "add", *args)
    assert not WitnessedLog.objects.exists()
