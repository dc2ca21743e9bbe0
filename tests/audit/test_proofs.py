"""Proofs from the database equal the RFC's; proof bundles verify offline, and only intact.

The log of 600 entries is integrated in uneven batches, so that the signed
checkpoints fall on both sides of the stored nodes' boundaries (256, 512)
and a proof mixes stored nodes with hashed blocks of leaves.
"""

from __future__ import annotations

import base64
import json
import os

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from casecenter.accounts.models import Role
from casecenter.audit import merkle, note, proofs, sequencer, signing
from casecenter.audit.models import AuditCheckpoint, AuditEntry, AuditHead, AuditNode
from casecenter.audit.proofs import BadProof, check_bundle
from casecenter.audit.services import record

from .conftest import edited_leaf, leaf_hash_of, write_entries

pytestmark = pytest.mark.django_db

#: Batches whose running totals are the sizes below: a checkpoint is signed at each.
BATCHES = (1, 1, 1, 252, 1, 1, 254, 1, 1, 87)
SIZES = (1, 2, 3, 255, 256, 257, 511, 512, 513, 600)


def indexes(size: int) -> list[int]:
    """First, last, middle, and both sides of every 128/256 boundary inside ``size``."""
    chosen = {0, 1, size // 2, size - 2, size - 1, 127, 128, 255, 256, 257, 383, 511, 512}
    return sorted(i for i in chosen if 0 <= i < size)


@pytest.fixture
def big_log() -> list[bytes]:
    """600 entries sequenced batch by batch; their leaf hashes, recomputed from the leaves."""
    write_entries(600)
    for batch in BATCHES:
        done = sequencer.integrate(batch=batch)
        assert done is not None and done.count == batch
    leaves = AuditEntry.objects.order_by("seq").values_list("leaf", flat=True)
    return [leaf_hash_of(leaf) for leaf in leaves]


def signed_roots() -> dict[int, bytes]:
    """The root of every stored checkpoint, read from its signed note."""
    keys = signing.verifiers()
    roots = {}
    for row in AuditCheckpoint.objects.all():
        opened = note.open_note(row.note, keys)
        roots[row.size] = note.Checkpoint.parse(opened.text).root
    return roots


# --- proofs from the database -------------------------------------------------------------


def test_the_proof_module_reads_the_node_level_the_sequencer_stores():
    assert proofs.NODE_LEVEL == sequencer.NODE_LEVEL


def test_a_checkpoint_was_signed_at_each_size_with_the_true_root(big_log):
    roots = signed_roots()
    assert sorted(roots) == list(SIZES)
    for size in SIZES:
        assert roots[size] == merkle.root_from_leaf_hashes(big_log[:size])


def test_inclusion_proofs_from_the_database_equal_the_rfc_ones_and_verify(big_log):
    roots = signed_roots()
    for size in SIZES:
        for index in indexes(size):
            proof = proofs.inclusion(index, size)
            assert proof == merkle.inclusion_proof(index, big_log[:size]), (index, size)
            assert merkle.verify_inclusion(big_log[index], index, size, proof, roots[size])
            assert not merkle.verify_inclusion(big_log[index - 1], index, size, proof, roots[size])


def test_consistency_proofs_from_the_database_equal_the_rfc_ones_and_verify(big_log):
    roots = signed_roots()
    for new in SIZES:
        for old in [s for s in SIZES if s <= new]:
            proof = proofs.consistency(old, new)
            assert proof == merkle.consistency_proof(old, big_log[:new]), (old, new)
            assert merkle.verify_consistency(old, new, proof, roots[old], roots[new])
    assert proofs.consistency(0, 600) == []


def test_a_proof_costs_two_queries_however_it_is_made_up(big_log, django_assert_num_queries):
    with django_assert_num_queries(2):  # stored nodes, then one block of leaf hashes
        proof = proofs.inclusion(300, 600)
    assert proof == merkle.inclusion_proof(300, big_log)


def test_a_proof_beyond_the_log_is_refused(log):
    with pytest.raises(proofs.ProofError, match="not in a tree of 5"):
        proofs.inclusion(5, 5)
    with pytest.raises(proofs.ProofError, match="not all in the log"):
        proofs.inclusion(0, 6)  # a tree size the log has not reached
    with pytest.raises(proofs.ProofError, match="prefix"):
        proofs.consistency(6, 5)


def test_a_missing_tree_node_is_named_not_papered_over(big_log):
    from casecenter.audit.models import AuditNode

    AuditNode.objects.filter(level=8, index=1).delete()
    with pytest.raises(proofs.ProofError, match="tree node 8/1 is missing"):
        proofs.inclusion(0, 600)


# --- bundles ------------------------------------------------------------------------------


def head_bundle(seq: int) -> dict:
    head = AuditHead.objects.get()
    entry = AuditEntry.objects.get(seq=seq)
    return proofs.bundle(seq, entry.leaf, head.checkpoint, head.size)


def test_a_bundle_round_trips_through_json_and_verifies_with_the_public_keys(big_log):
    key = signing.active_key()
    for seq in (0, 255, 256, 599):
        entry = AuditEntry.objects.get(seq=seq)
        text = json.dumps(head_bundle(seq))
        checked = check_bundle(text, signing.verifiers(), origin=signing.origin())
        assert checked.index == seq
        assert checked.entry == json.loads(entry.leaf)
        assert (checked.checkpoint.size, checked.checkpoint.root) == (
            600,
            merkle.root_from_leaf_hashes(big_log),
        )
        assert checked.signed_by == (f"{key.name}+{key.key_hash}",)


def test_a_bundle_against_an_older_checkpoint_verifies_too(big_log):
    old = AuditCheckpoint.objects.get(size=257)
    entry = AuditEntry.objects.get(seq=256)
    checked = check_bundle(
        proofs.bundle(256, entry.leaf, old.note, 257), signing.verifiers(), signing.origin()
    )
    assert (checked.index, checked.checkpoint.size) == (256, 257)


@pytest.fixture
def bundle(log) -> dict:
    """The proof of entry 5 of a log of 20: a path of several hashes."""
    write_entries(15)
    sequencer.integrate_all()
    made = head_bundle(5)
    assert len(made["proof"]) == 5
    check_bundle(made, signing.verifiers())  # intact, it verifies
    return made


def flip(b64: str, byte: int = 0, delta: int = 1) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[byte] ^= delta
    return base64.b64encode(bytes(raw)).decode()


def other_log_key(name: str) -> note.Signer:
    return note.Signer(name, os.urandom(32))


def resigned(checkpoint: str, signer: note.Signer) -> str:
    body = checkpoint[: checkpoint.rindex("\n\n") + 1]
    return note.sign_note(body, signer).decode()


NOT_IN_TREE = "is not in the checkpoint's tree: the proof does not lead to its root"
CORRUPTIONS = {
    "leaf edited": (
        lambda b: {**b, "leaf": edited_leaf(b["leaf"], reason="nothing to see")},
        f"entry 5 {NOT_IN_TREE}",
    ),
    "a proof hash flipped": (
        lambda b: {**b, "proof": [b["proof"][0], flip(b["proof"][1]), *b["proof"][2:]]},
        NOT_IN_TREE,
    ),
    "proof shortened": (lambda b: {**b, "proof": b["proof"][:-1]}, NOT_IN_TREE),
    "proof lengthened": (lambda b: {**b, "proof": [*b["proof"], b["proof"][0]]}, NOT_IN_TREE),
    "index changed": (lambda b: {**b, "index": 4}, f"entry 4 {NOT_IN_TREE}"),
    "tree_size changed": (
        lambda b: {**b, "tree_size": 21},
        "the proof is for a tree of 21 entries, the checkpoint has 20",
    ),
    "checkpoint body edited": (
        lambda b: {**b, "checkpoint": b["checkpoint"].replace("\n20\n", "\n21\n", 1)},
        "the checkpoint does not verify: invalid signature",
    ),
    "signature by another key": (
        lambda b: {**b, "checkpoint": resigned(b["checkpoint"], other_log_key(signing.origin()))},
        "the checkpoint does not verify: note has no verifiable signatures",
    ),
    "index out of the tree": (
        lambda b: {**b, "index": 20},
        "index and tree_size must be integers with 0 <= index < tree_size",
    ),
    "index not an integer": (
        lambda b: {**b, "index": "5"},
        "index and tree_size must be integers",
    ),
    "a proof hash not base64": (
        lambda b: {**b, "proof": ["not base64!", *b["proof"][1:]]},
        "a proof hash is not base64",
    ),
    "proof not a list": (
        lambda b: {**b, "proof": "".join(b["proof"])},
        "proof must be a list of base64 hashes",
    ),
    "leaf not text": (lambda b: {**b, "leaf": None}, "leaf and checkpoint must be text"),
    "wrong format": (
        lambda b: {**b, "format": "casecenter-audit-inclusion/v0"},
        "not a casecenter-audit-inclusion/v1 proof",
    ),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_every_corruption_of_a_bundle_is_refused_naming_the_problem(bundle, corruption):
    corrupt, problem = CORRUPTIONS[corruption]
    with pytest.raises(BadProof) as refused:
        check_bundle(json.dumps(corrupt(bundle)), signing.verifiers())
    assert problem in str(refused.value)


def test_a_checkpoint_of_another_log_is_refused_by_origin(bundle):
    with pytest.raises(
        BadProof, match="the checkpoint is of log .*, not 'elsewhere.example/audit'"
    ):
        check_bundle(bundle, signing.verifiers(), origin="elsewhere.example/audit")
    # a log that signs with its own key is still not this log
    stranger = other_log_key("elsewhere.example/audit")
    forged = {**bundle, "checkpoint": resigned(bundle["checkpoint"], stranger)}
    with pytest.raises(BadProof, match="the checkpoint does not verify"):
        check_bundle(forged, signing.verifiers(), origin=signing.origin())


@pytest.mark.parametrize("text", ["", "{", "[1, 2", b"\xff\xfe"])
def test_a_bundle_that_is_not_json_is_refused(text):
    with pytest.raises(BadProof, match="the proof is not JSON"):
        check_bundle(text, [])


@pytest.mark.parametrize("document", ["[]", "42", '"text"', "{}", '{"format": null}'])
def test_json_that_is_not_a_bundle_is_refused(document):
    with pytest.raises(BadProof, match="not a casecenter-audit-inclusion/v1 proof"):
        check_bundle(document, [])


def test_any_single_byte_corruption_of_any_proof_hash_is_refused(bundle):
    keys = signing.verifiers()

    @settings(max_examples=200)
    @given(
        element=st.integers(0, len(bundle["proof"]) - 1),
        byte=st.integers(0, merkle.HASH_SIZE - 1),
        delta=st.integers(1, 255),
    )
    def corrupted_is_refused(element: int, byte: int, delta: int) -> None:
        proof = list(bundle["proof"])
        proof[element] = flip(proof[element], byte, delta)
        with pytest.raises(BadProof, match="the proof does not lead to its root"):
            check_bundle({**bundle, "proof": proof}, keys)

    corrupted_is_refused()


# --- the API ------------------------------------------------------------------------------

PROOF_URL = "/api/audit/entries/{}/proof"


@pytest.fixture
def reader(make_officer) -> Client:
    """An administrator's browser session."""
    client = Client()
    client.force_login(make_officer("auditor", role=Role.ADMIN))
    return client


def api_keys(client: Client) -> list[note.Verifier]:
    answer = client.get("/api/audit/keys")
    assert answer.status_code == 200
    return [note.parse_verifier_key(k) for k in answer.json()["keys"]]


def test_the_api_answers_a_bundle_that_verifies_offline_with_the_published_keys(log, reader):
    answer = reader.get(PROOF_URL.format(2))
    assert answer.status_code == 200
    bundle = answer.json()
    assert set(bundle) == {"format", "index", "leaf", "tree_size", "proof", "checkpoint"}
    assert (bundle["index"], bundle["tree_size"], bundle["leaf"]) == (2, 5, log[2].leaf)
    assert bundle["checkpoint"] == AuditHead.objects.get().checkpoint
    checked = check_bundle(json.dumps(bundle), api_keys(reader), origin=signing.origin())
    assert checked.entry["action"] == "calendars.year.load"


def test_a_proof_read_is_audited_and_its_own_entry_can_be_proven_once_sequenced(log, reader):
    reader.get(PROOF_URL.format(2))
    read = AuditEntry.objects.get(action="audit.proof_read")
    assert read.seq is None  # waiting: the proof handed out was of entry 2, not of this
    assert (read.actor_name, read.object_type, read.object_id) == (
        "auditor",
        "audit.auditentry",
        str(log[2].id),
    )
    assert read.data == {"seq": 2, "tree_size": 5}
    sequencer.integrate_all()
    read.refresh_from_db()
    answer = reader.get(PROOF_URL.format(read.seq))
    assert answer.status_code == 200
    checked = check_bundle(answer.json(), signing.verifiers())
    assert (checked.index, checked.entry) == (read.seq, json.loads(read.leaf))


def test_a_waiting_or_missing_entry_is_not_found_and_nothing_is_audited(log, reader):
    with transaction.atomic():
        waiting = record(None, "test.waiting")
    assert waiting.seq is None
    for seq in (5, 99):  # entry 5 would be the waiting one's place: it has none yet
        answer = reader.get(PROOF_URL.format(seq))
        assert answer.status_code == 404
        assert answer.json()["code"] == "audit.not_in_log"
    assert not AuditEntry.objects.filter(action="audit.proof_read").exists()


def test_a_damaged_tree_is_a_named_conflict_not_a_server_error(big_log, reader):
    AuditNode.objects.filter(level=8).delete()
    answer = reader.get(PROOF_URL.format(3))
    assert answer.status_code == 409
    assert answer.json()["code"] == "audit.tree_damaged"
    assert "audit verify" in answer.json()["message_en"]
    assert not AuditEntry.objects.filter(action="audit.proof_read").exists()


def test_a_place_beyond_any_database_integer_is_invalid_input(log, reader):
    answer = reader.get(PROOF_URL.format(2**63))
    assert answer.status_code == 422


def test_without_login_the_log_answers_401(log):
    for url in (PROOF_URL.format(0), "/api/audit/checkpoint", "/api/audit/keys"):
        answer = Client().get(url)
        assert answer.status_code == 401, url
        assert answer.json()["code"] == "unauthenticated"


def test_a_case_officer_may_not_read_the_log(log, make_officer):
    client = Client()
    client.force_login(make_officer("officer", role=Role.CASE_OFFICER))
    for url in (PROOF_URL.format(0), "/api/audit/checkpoint", "/api/audit/keys"):
        answer = client.get(url)
        assert answer.status_code == 403, url
        assert answer.json()["code"] == "audit.not_allowed"
    assert not AuditEntry.objects.filter(action__startswith="audit.").exists()


def test_the_view_permission_or_superuser_is_enough(log, make_officer):
    from django.contrib.auth.models import Permission

    granted = make_officer("granted", role=Role.CASE_OFFICER)
    granted.user_permissions.add(Permission.objects.get(codename="view_auditentry"))
    root = make_officer("root", role=Role.CASE_OFFICER, is_superuser=True)
    for user in (granted, root):
        client = Client()
        client.force_login(user)
        assert client.get(PROOF_URL.format(0)).status_code == 200, user


def test_the_checkpoint_is_the_signed_note_as_text_and_its_read_is_audited(log, reader):
    answer = reader.get("/api/audit/checkpoint")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/plain; charset=utf-8"
    head = AuditHead.objects.get()
    assert answer.content.decode() == head.checkpoint
    opened = note.open_note(answer.content, api_keys(reader))
    assert note.Checkpoint.parse(opened.text).root == bytes(head.root)
    read = AuditEntry.objects.get(action="audit.checkpoint_read")
    assert (read.actor_name, read.data) == ("auditor", {"tree_size": 5})


def test_no_checkpoint_before_the_first_entry_is_sequenced(reader):
    answer = reader.get("/api/audit/checkpoint")
    assert answer.status_code == 404
    assert answer.json()["code"] == "audit.no_checkpoint"


def test_the_keys_are_every_key_of_the_log_oldest_first_and_their_read_is_audited(log, reader):
    first = signing.active_key()
    second = signing.rotate()
    answer = reader.get("/api/audit/keys")
    assert answer.json() == {
        "origin": signing.origin(),
        "keys": [signing.verifier(first).verifier_key(), signing.verifier(second).verifier_key()],
    }
    read = AuditEntry.objects.get(action="audit.keys_read")
    assert read.data == {"keys": 2}
