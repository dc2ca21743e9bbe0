"""Signed notes, checkpoints and cosignatures: Go's, transparency-dev's and C2SP's
vectors byte for byte, and properties over any text, key and checkpoint."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from casecenter.audit.note import (
    MAX_SIGNATURES,
    AmbiguousKey,
    BadSignature,
    Checkpoint,
    CosignatureVerifier,
    Ed25519Verifier,
    MalformedCheckpoint,
    MalformedKey,
    MalformedNote,
    Note,
    NoteError,
    NoVerifiedSignature,
    Signature,
    Signer,
    cosignature_message,
    cosignature_time,
    generate_key,
    open_checkpoint,
    open_note,
    parse_signature_lines,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
    time_extension,
)

# golang.org/x/mod sumdb/note/note_test.go (TestNewVerifier, TestNewSigner, TestSign, TestOpen).
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_B64 = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
ENOCH_B64 = (
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
)
PETER_SIG = f"— PeterNeumann {PETER_B64}\n"
ENOCH_SIG = f"— EnochRoot {ENOCH_B64}\n"
PETER = Signature("PeterNeumann", 0xC74F20A3, PETER_B64)
ENOCH = Signature("EnochRoot", 0xAF0CFE78, ENOCH_B64)

# transparency-dev/formats log/note_test.go (TestParseCheckpoint, TestSumDBNoteParsing,
# BenchmarkParse): key pairs, and a sum.golang.org checkpoint with extra signatures on it.
KEY_PAIRS = {
    "Log": (
        "PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ",
        "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs",
    ),
    "Known": (
        "PRIVATE+KEY+Known+451c786d+AQPRoE2+Z+Ed1HaHBA9F/FfracvcZ2rDU39kCecMEoci",
        "Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH",
    ),
    "KnownAgain": (
        "PRIVATE+KEY+KnownAgain+4893b26c+ARhZda/l25zjGZswYLDZsLNRzNpmv5wYTN9IoTr1OJ2+",
        "KnownAgain+4893b26c+AQ+LR7BFF/F/dkpIBjBpSvT0crkteizuUkavAoGeaYMj",
    ),
    "Unknown": (
        "PRIVATE+KEY+Unknown+fdbb2e08+Aav2knTC6orbhXX8pMWuNiWgO+Wwk2DB+h1eU2Q1W1nU",
        "Unknown+fdbb2e08+AWgRIYZ+8x1Vl+1Q+sR8zciNHiYI1SdlBjNw+RV0rots",
    ),
}
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_NOTE = (
    "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n"
    "— sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEP"
    "WL+o3GeoWwOoAw=\n"
)
SUMDB_EXTRA = {
    "monkeys+db4d9f7e+AULaJMvTtDLHPUcUrjdDad9vDlh/PTfC2VV60JUtCfWT": "— monkeys 202ffh9ve46Mq"
    "bhuyb4wnC2Pwdan5EsXQym/tF1ggXJqhjGosU4T5intH4iKMRgDLxrnXuIjRaU2NbvAnaepM6Y+8ww=\n",
    "bananas+cf639f13+AaPjhFnPCQnid/Ql32KWhmh+uk72FVRfK+2DLmO3BI3M": "— bananas z2OfE+2bbsBZ7N"
    "Lgfuslc0v7NFW2QyexJ7fhePpoL2N/P7N/COd5S+JNHbQEAlYzz2C5sg0E+x/MggS1mDR6t3/9rQw=\n",
    "witness+f13a86db+AdYV1Ztajd9BvyjP2HgpwrqYL6TjOwIjGMOq8Bu42xbN": "— witness 8TqG25yWGFLdT7"
    "WPf/WoyeG3LwqtkXP+8S3yykOVm6EMh4hPgCke6eSVPU4BdtXNMPJBXKF+UpDbGgCdcpR8SVSoqAU=\n",
}

# C2SP signed-note.md ("Example") and tlog-cosignature.md (the witness line of its example).
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2O"
    "NncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
C2SP_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
C2SP_COSIGNATURE = (
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3"
    "b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)

ROOT = bytes(range(32))


def peter() -> Ed25519Verifier:
    v = parse_verifier_key(PETER_VKEY)
    assert isinstance(v, Ed25519Verifier)
    return v


# -- keys (Go: TestNewVerifier, TestNewSigner, TestGenerateKey) ----------------------------


def test_go_vectors_keys_parse_and_the_signer_matches_its_verifier() -> None:
    signer = parse_signer_key(PETER_SKEY)
    assert signer.name == "PeterNeumann" and signer.key_hash == 0xC74F20A3
    assert signer.verifier() == peter()
    assert signer.signer_key() == PETER_SKEY
    assert peter().verifier_key() == PETER_VKEY
    assert repr(signer) == "Signer(name='PeterNeumann')"  # the seed stays out of logs


@pytest.mark.parametrize("name", sorted(KEY_PAIRS))
def test_transparency_dev_key_pairs_belong_together(name: str) -> None:
    skey, vkey = KEY_PAIRS[name]
    assert parse_signer_key(skey).verifier() == parse_verifier_key(vkey)


def mangled(key: str) -> list[str]:
    """Every proper substring of key and every one-character increment (Go's manglings)."""
    subs = {key[i:j] for i in range(len(key) + 1) for j in range(i + 1, len(key) + 1)}
    bumps = {key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))}
    return sorted((subs | bumps) - {key})


def test_every_mangled_verifier_key_is_refused() -> None:
    for bad in mangled(PETER_VKEY):
        with pytest.raises(MalformedKey):
            parse_verifier_key(bad)


def test_every_mangled_signer_key_is_refused() -> None:
    for bad in mangled(PETER_SKEY):
        with pytest.raises(MalformedKey):
            parse_signer_key(bad)


@pytest.mark.parametrize(
    ("vkey", "problem"),
    [
        # Go: a key of the wrong length, and an unknown type, each with its key ID adjusted.
        # (Go refuses the first for its length; its base64 is not canonical, which we refuse.)
        ("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", "must read"),
        ("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "type 0x65"),
        # transparency-dev/formats note/note_cosigv1_test.go and note_verifier_test.go.
        ("bananas.sigstore.dev+12344556", "must read"),
        ("rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!", "must read"),
        ("rekor.sigstore.dev+12345678+AwEB", "type 0x03"),
        (
            "rekor.sigstore.dev+NOT_A_NUMBER+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNhtmPtrWm3U1eQXBo"
            "gSMdGvXwBcK5AW5i0hrZLOC96l+smGNM7nwZ4QvFK/4sueRoVj//QP22Ni4Qt9DPfkWLc=",
            "must read",
        ),
        (
            "rekor.sigstore.dev+00000000+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNhtmPtrWm3U1eQXBo"
            "gSMdGvXwBcK5AW5i0hrZLOC96l+smGNM7nwZ4QvFK/4sueRoVj//QP22Ni4Qt9DPfkWLc=",
            "type 0x02",
        ),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        # The same sigstore ECDSA key with its right key ID: well formed, but not Ed25519.
        (
            "rekor.sigstore.dev+c0d23d6a+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNhtmPtrWm3U1eQXBo"
            "gSMdGvXwBcK5AW5i0hrZLOC96l+smGNM7nwZ4QvFK/4sueRoVj//QP22Ni4Qt9DPfkWLc=",
            "type 0x02",
        ),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "a space"),
    ],
)
def test_a_bad_verifier_key_is_refused_naming_the_problem(vkey: str, problem: str) -> None:
    with pytest.raises(MalformedKey, match=problem):
        parse_verifier_key(vkey)


def test_the_key_type_byte_picks_the_verifier() -> None:
    # transparency-dev/formats note/note_cosigv1_test.go (TestCoSigV1NewVerifier).
    witness = parse_verifier_key(
        "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
    )
    assert isinstance(witness, CosignatureVerifier) and witness.key_hash == 0xDA77ADE7
    plain = parse_verifier_key("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6")
    assert isinstance(plain, Ed25519Verifier) and plain.key_hash == 0x7997405C
    # The same public key as a cosigner has another key ID (type byte 0x04).
    assert CosignatureVerifier("TEST", plain.public_key).key_hash != plain.key_hash


@pytest.mark.parametrize("name", ["", "a+b", "a b", "a\tb", "a\u00a0b", "a\u3000b", "a\x01b"])
def test_a_key_name_with_plus_space_or_control_is_refused(name: str) -> None:
    with pytest.raises(MalformedKey):
        Signer(name, bytes(32))
    with pytest.raises(MalformedKey):
        generate_key(name)


def test_generated_keys_sign_and_verify_each_other() -> None:
    skey, vkey = generate_key("EnochRoot")
    signed = sign_note("hi\n", parse_signer_key(skey))
    assert open_note(signed, [parse_verifier_key(vkey)]).signatures[0].name == "EnochRoot"


names = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="+"),
    min_size=1,
    max_size=20,
)
seeds = st.binary(min_size=32, max_size=32)
texts = st.text(
    st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters=[*map(chr, range(10)), *map(chr, range(11, 32))],
    ),
    max_size=200,
).map(lambda text: text + "\n")


@given(names, seeds)
def test_both_key_strings_read_back_to_the_same_key(name: str, seed: bytes) -> None:
    signer = Signer(name, seed)
    assert parse_signer_key(signer.signer_key()) == signer
    assert parse_verifier_key(signer.verifier().verifier_key()) == signer.verifier()


# -- signing (Go: TestSign) ----------------------------------------------------------------


def test_go_vector_the_signature_is_byte_for_byte_gos() -> None:
    assert sign_note(TEXT, parse_signer_key(PETER_SKEY)) == (TEXT + "\n" + PETER_SIG).encode()


def test_signing_again_replaces_the_keys_old_signature_and_keeps_the_others() -> None:
    signer = parse_signer_key(PETER_SKEY)
    # A signature by Peter's key that does not verify: Go's "BADSIGN=" in a valid form.
    stale = Signature("PeterNeumann", 0xC74F20A3, "x08go/" + ENOCH_B64[6:])
    note = open_note(TEXT + "\n" + ENOCH_SIG + PETER_SIG, [peter()])
    resigned = sign_note(Note(TEXT, (stale,), note.unverified), signer)
    assert resigned == (TEXT + "\n" + ENOCH_SIG + PETER_SIG).encode()


def test_signing_refuses_what_would_not_open() -> None:
    signer = parse_signer_key(PETER_SKEY)
    with pytest.raises(MalformedNote, match="newline"):
        sign_note("abc", signer)
    with pytest.raises(MalformedNote, match="control character U\\+0007"):
        sign_note("a\x07\n", signer)
    with pytest.raises(MalformedNote, match="nothing to sign"):
        sign_note(TEXT)


def test_a_pre_filled_signature_must_be_well_formed() -> None:
    with pytest.raises(MalformedNote):
        Signature("a+b", 0, "ABCD")  # Go: "Sign with bad name"
    with pytest.raises(MalformedNote, match="not base64"):
        Signature("PeterNeumann", 0xC74F20A3, "BADHASH=")  # Go: "bad pre-filled signature"
    with pytest.raises(MalformedNote, match="does not begin with its key ID"):
        Signature("PeterNeumann", 0xC74F20A3, ENOCH_B64)


def test_a_signer_with_a_bad_name_is_refused() -> None:
    class BadName:
        name = "bad name"
        key_hash = 0
        sign = staticmethod(parse_signer_key(PETER_SKEY).sign)

    with pytest.raises(MalformedKey, match="bad name"):
        sign_note(TEXT, BadName())


# -- opening (Go: TestOpen, TestVerifierList) ----------------------------------------------


def test_go_vectors_one_key_known_one_not() -> None:
    note = open_note((TEXT + "\n" + PETER_SIG + ENOCH_SIG).encode(), [peter()])
    assert note.text == TEXT
    assert note.signatures == (PETER,) and note.unverified == (ENOCH,)


def test_go_vectors_both_keys_known() -> None:
    both = [peter(), parse_verifier_key(ENOCH_VKEY)]
    note = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, both)
    assert note.signatures == (PETER, ENOCH) and note.unverified == ()


def test_a_note_no_known_key_signed_is_refused_with_what_was_found() -> None:
    with pytest.raises(NoVerifiedSignature, match="no verifiable signatures") as caught:
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])
    assert caught.value.note.unverified == (PETER, ENOCH)
    assert caught.value.note.signatures == ()


def test_a_known_keys_bad_signature_refuses_the_whole_note() -> None:
    tampered = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    both = [peter(), parse_verifier_key(ENOCH_VKEY)]
    with pytest.raises(BadSignature, match="invalid signature for key PeterNeumann\\+c74f20a3"):
        open_note(TEXT + "\n" + ENOCH_SIG + tampered, both)


def test_too_many_signatures_are_refused() -> None:
    # Go: 101 signatures are refused whether or not their key is known.
    for known in ([peter()], []):
        with pytest.raises(MalformedNote, match=f"more than {MAX_SIGNATURES}"):
            open_note(TEXT + "\n" + PETER_SIG * (MAX_SIGNATURES + 1), known)


def test_a_hundred_signatures_are_accepted() -> None:
    # C2SP signed-note: verifiers MUST accept at least 16; Go's limit is 100.
    signers = [Signer(f"k{i}", bytes([i]) * 32) for i in range(MAX_SIGNATURES)]
    note = open_note(sign_note(TEXT, *signers), [s.verifier() for s in signers])
    assert [s.name for s in note.signatures] == [s.name for s in signers]


def test_two_signatures_by_one_key_are_refused() -> None:
    # Stricter than Go, which keeps the first: a note we accept has one line per key.
    for block in (PETER_SIG * 2, ENOCH_SIG + PETER_SIG + ENOCH_SIG):
        with pytest.raises(MalformedNote, match="two signatures by key"):
            open_note(TEXT + "\n" + block, [peter()])


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        (TEXT, "no blank line"),
        (TEXT + "\n", "no signature lines"),
        (TEXT + "\n" + PETER_SIG[:-1], "end in a newline"),
        ("\x01" + TEXT + "\n" + PETER_SIG, "control character U\\+0001"),
        (b"\xff" + (TEXT + "\n" + PETER_SIG).encode(), "UTF-8"),
        (TEXT + "\n— Bad Name " + PETER_B64 + "\n", "not base64"),
        (TEXT + "\n" + PETER_SIG + "Unexpected line.\n", "em dash"),
        (TEXT + "\n- PeterNeumann " + PETER_B64 + "\n", "em dash"),
        (TEXT + "\n— PeterNeumann\n", "not base64"),
        (TEXT + "\n— PeterNeumann x08gow==\n", "not base64"),  # under 5 bytes
        (TEXT + "\n" + PETER_SIG.replace("nAM=", "nAN="), "not base64"),  # not canonical
        (TEXT + "\n" + PETER_SIG.replace("\n", "\r\n"), "control character U\\+000D"),
    ],
)
def test_a_malformed_note_is_refused_naming_the_problem(message: str | bytes, problem: str) -> None:
    with pytest.raises(MalformedNote, match=problem):
        open_note(message, [peter()])


def test_two_different_verifiers_for_one_key_id_are_refused() -> None:
    class Impostor:
        name = "PeterNeumann"
        key_hash = 0xC74F20A3

        def verify(self, message: bytes, signature: bytes) -> bool:
            return True

    with pytest.raises(AmbiguousKey, match="PeterNeumann\\+c74f20a3"):
        open_note(TEXT + "\n" + PETER_SIG, [peter(), Impostor()])
    assert open_note(TEXT + "\n" + PETER_SIG, [peter(), peter()]).signatures == (PETER,)


def test_c2sp_example_note_verifies() -> None:
    note = open_note(C2SP_NOTE, [parse_verifier_key(C2SP_VKEY)])
    assert note.text == "This is an example message.\n"


def test_the_text_ends_at_the_last_blank_line() -> None:
    text = "Ognuno sta solo\n\ned è subito sera.\n"
    signed = sign_note(text, parse_signer_key(PETER_SKEY))
    assert open_note(signed, [peter()]).text == text


# -- properties ----------------------------------------------------------------------------


@given(texts, names, seeds)
def test_any_text_signed_opens_to_itself(text: str, name: str, seed: bytes) -> None:
    signer = Signer(name, seed)
    note = open_note(sign_note(text, signer), [signer.verifier()])
    assert note.text == text and [s.name for s in note.signatures] == [name]


@given(texts, seeds, st.data())
def test_any_changed_byte_is_refused(text: str, seed: bytes, data: st.DataObject) -> None:
    signer = Signer("casecenter.example/audit", seed)
    signed = bytearray(sign_note(text, signer))
    at = data.draw(st.integers(0, len(signed) - 1))
    signed[at] ^= data.draw(st.integers(1, 255))
    with pytest.raises(NoteError):
        open_note(bytes(signed), [signer.verifier()])


@given(texts, texts, seeds)
def test_a_signature_does_not_carry_to_another_text(text: str, other: str, seed: bytes) -> None:
    signer = Signer("log", seed)
    line = sign_note(text, signer).decode().rpartition("\n\n")[2]
    if other != text:
        with pytest.raises(BadSignature):
            open_note(other + "\n" + line, [signer.verifier()])


@given(texts, seeds, st.integers(0, 63), st.integers(0, 7))
def test_a_flipped_signature_bit_is_refused(text: str, seed: bytes, byte: int, bit: int) -> None:
    signer = Signer("log", seed)
    sig = bytearray(signer.key_hash.to_bytes(4, "big") + signer.sign(text.encode()))
    sig[4 + byte] ^= 1 << bit
    line = Signature("log", signer.key_hash, base64.b64encode(sig).decode()).line()
    with pytest.raises(BadSignature):
        open_note(text + "\n" + line, [signer.verifier()])


@given(texts, seeds, names)
def test_a_renamed_signature_is_not_the_keys(text: str, seed: bytes, name: str) -> None:
    signer = Signer("log", seed)
    line = sign_note(text, signer).decode().rpartition("\n\n")[2]
    if name != "log":
        with pytest.raises(NoVerifiedSignature):
            open_note(text + "\n" + line.replace("— log ", f"— {name} "), [signer.verifier()])


# -- checkpoints ---------------------------------------------------------------------------


def test_c2sp_example_checkpoint_parses_and_prints_back() -> None:
    checkpoint = Checkpoint.parse(C2SP_BODY)
    assert checkpoint.origin == "example.com/behind-the-sofa" and checkpoint.size == 20852163
    assert checkpoint.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.extensions == () and checkpoint.made_at() is None
    assert checkpoint.body() == C2SP_BODY


def test_sumdb_checkpoint_opens_with_the_extra_signatures_known_or_not() -> None:
    log = parse_verifier_key(SUMDB_VKEY)
    checkpoint, note = open_checkpoint(SUMDB_NOTE, "go.sum database tree", log)
    assert checkpoint.size == 6476701 and note.unverified == ()
    extras = "".join(SUMDB_EXTRA.values())
    others = [parse_verifier_key(vkey) for vkey in SUMDB_EXTRA]
    _, note = open_checkpoint(SUMDB_NOTE + extras, "go.sum database tree", log, *others)
    assert [s.name for s in note.signatures] == ["sum.golang.org", "monkeys", "bananas", "witness"]
    _, note = open_checkpoint(SUMDB_NOTE + extras, "go.sum database tree", log, others[0])
    assert [s.name for s in note.unverified] == ["bananas", "witness"]
    with pytest.raises(MalformedCheckpoint, match="expected 'Go rocks'"):
        open_checkpoint(SUMDB_NOTE, "Go rocks", log)


@pytest.mark.parametrize(
    ("signers", "verified"),
    [
        (["Log"], 1),
        (["Log", "Known"], 2),
        (["Log", "Known", "Unknown"], 2),
        (["Log", "Known", "Known"], 2),
        (["KnownAgain", "Log", "Known"], 3),
        (["Log", "Known", "KnownAgain", "Unknown"], 3),
        (["Known", "KnownAgain"], 2),
    ],
)
def test_transparency_dev_checkpoint_signers(signers: list[str], verified: int) -> None:
    # transparency-dev/formats log/note_test.go (TestParseCheckpoint), with a 32-byte root:
    # the log's signature is required, the other known keys' are checked, unknown ones kept.
    body = Checkpoint("TestParseCheckpoint", 42, ROOT).body()
    signed = sign_note(body, *(parse_signer_key(KEY_PAIRS[s][0]) for s in signers))
    log, *others = (parse_verifier_key(KEY_PAIRS[s][1]) for s in ("Log", "Known", "KnownAgain"))
    if "Log" in signers:
        _, note = open_checkpoint(signed, "TestParseCheckpoint", log, *others)
    else:
        with pytest.raises(
            NoVerifiedSignature, match="no signature by the log key Log\\+2271c621"
        ) as caught:
            open_checkpoint(signed, "TestParseCheckpoint", log, *others)
        note = caught.value.note
    assert len(note.signatures) == verified
    assert len(note.unverified) == ("Unknown" in signers)


def test_a_signed_text_that_is_no_checkpoint_is_refused() -> None:
    signer = parse_signer_key(KEY_PAIRS["Log"][0])
    signed = sign_note("if this is a valid checkpoint then I'll eat my hat\n", signer)
    with pytest.raises(MalformedCheckpoint, match="3 lines or more"):
        open_checkpoint(signed, "TestParseCheckpoint", signer.verifier())


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        # transparency-dev/formats log/checkpoint_test.go (TestUnmarshalLogState), then ours.
        ("Head\n9944\n", "3 lines or more, not 2"),
        ("\n9944\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n", "origin"),
        ("Log\n123\nYmFuYW5hcw==", "end in a newline"),
        ("Log\nbananas\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "tree size 'bananas'"),
        ("Log\n-34\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "tree size '-34'"),
        (
            "Log\n3438945738945739845734895735\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
            "tree size",
        ),
        ("Log\n123\nThisIsn'tBase64\n", "root hash"),
        ("Log\n123\nYmFuYW5hcw==\n", "32 bytes"),  # formats takes any hash length; we take 32
        ("Log\n0123\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "leading zeros"),
        ("Log\n1_000\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "tree size"),
        ("Log\n\u0661\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "tree size"),
        ("Log\n 1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "tree size"),
        ("Log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\n", "extension line is empty"),
        ("Log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nmore\ngarbage", "newline"),
        ("Log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n", "root hash"),
        ("Log\x07\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "control character"),
    ],
)
def test_a_malformed_checkpoint_is_refused_naming_the_problem(body: str, problem: str) -> None:
    with pytest.raises(MalformedCheckpoint, match=problem):
        Checkpoint.parse(body)


def test_a_checkpoint_refuses_impossible_fields() -> None:
    impossible = [
        ("", 1, ROOT),
        ("o\nx", 1, ROOT),
        ("o", -1, ROOT),
        ("o", 2**64, ROOT),
        ("o", True, ROOT),
        ("o", 1, ROOT[:31]),
    ]
    for args in impossible:
        with pytest.raises(MalformedCheckpoint):
            Checkpoint(*args)
    with pytest.raises(MalformedCheckpoint, match="extension"):
        Checkpoint("o", 1, ROOT, ("",))


def test_the_time_line_reads_back_to_the_second() -> None:
    made = datetime(2025, 3, 1, 16, 0, 0, 123456, tzinfo=UTC)
    line = time_extension(made.astimezone())
    assert line == "time 2025-03-01T16:00:00Z"
    checkpoint = Checkpoint("casecenter.example/audit", 7, ROOT, (line,))
    assert checkpoint.body().endswith("\ntime 2025-03-01T16:00:00Z\n")
    assert Checkpoint.parse(checkpoint.body()).made_at() == made.replace(microsecond=0)
    with pytest.raises(ValueError, match="time zone"):
        time_extension(datetime(2025, 3, 1))


@pytest.mark.parametrize(
    "lines",
    [
        ("time 2025-03-01 16:00:00Z",),
        ("time 2025-02-30T16:00:00Z",),
        ("time 2025-03-01T16:00:00+08:00",),
        ("time 2025-03-01T16:00:00Z", "time 2025-03-01T16:00:01Z"),
    ],
)
def test_a_bad_time_line_is_refused(lines: tuple[str, ...]) -> None:
    with pytest.raises(MalformedCheckpoint):
        Checkpoint("o", 1, ROOT, lines).made_at()


origins = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)
extension_lines = st.lists(origins, max_size=3).map(tuple)


@given(origins, st.integers(0, 2**64 - 1), st.binary(min_size=32, max_size=32), extension_lines)
def test_any_checkpoint_parses_back_from_its_body(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...]
) -> None:
    checkpoint = Checkpoint(origin, size, root, extensions)
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


@given(st.datetimes(timezones=st.just(UTC)))
def test_any_time_reads_back_to_the_second(made: datetime) -> None:
    checkpoint = Checkpoint("o", 1, ROOT, ("other", time_extension(made)))
    assert checkpoint.made_at() == made.replace(microsecond=0)


@given(st.text(max_size=25).filter(lambda s: not s.isascii() or not s.isdigit() or s[:1] == "0"))
def test_a_size_that_is_not_a_plain_decimal_is_refused(size: str) -> None:
    if size != "0" and "\n" not in size:
        with pytest.raises(MalformedCheckpoint):
            Checkpoint.parse(f"o\n{size}\n{base64.b64encode(ROOT).decode()}\n")


# -- cosignatures (C2SP tlog-cosignature) --------------------------------------------------


def test_c2sp_example_cosignature_line_carries_its_time_and_key_id() -> None:
    (sig,) = parse_signature_lines(C2SP_COSIGNATURE)
    assert sig.name == "witness.example.com/w1" and sig.key_hash == 0x8D66CF3F
    assert cosignature_time(sig) == datetime(2023, 3, 20, 12, 25, 47, tzinfo=UTC)
    assert cosignature_message(C2SP_BODY, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n"
        b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


def test_c2sp_witness_answer_lines_parse_one_key_name_under_two_key_ids() -> None:
    # C2SP tlog-witness.md, the example response body of add-checkpoint.
    answer = (
        "— witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSv"
        "VjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==\n"
        "— witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64"
        "vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==\n"
        "— witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKb"
        "YKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==\n"
    )
    sigs = parse_signature_lines(answer)
    assert [(s.name, s.key_hash) for s in sigs] == [
        ("witness.example/w1", 0x08CA7EE8),
        ("witness.example/w1", 0x23BAC4A6),
        ("witness.example/w2", 0x016BA2F1),
    ]
    # The example's bytes are illustrative: none of its timestamps is before the year 10000.
    for sig in sigs:
        with pytest.raises(MalformedNote, match="time out of range"):
            cosignature_time(sig)


def test_transparency_dev_cosignature_timestamps() -> None:
    # transparency-dev/formats note/note_cosigv1_test.go (TestCoSigV1Timestamp).
    works = "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA=="  # noqa: E501
    assert cosignature_time(Signature("w", 0x646846B9, works)) == datetime.fromtimestamp(
        1727964367, UTC
    )
    plain = "eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1hPb/W/4xkNQY="  # noqa: E501
    with pytest.raises(MalformedNote, match="not an Ed25519 cosignature"):
        cosignature_time(Signature("w", 0x7908D142, plain))
    with pytest.raises(MalformedNote):
        Signature("w", 0, "5%/$!\n 2")


def cosign(body: str, witness: Ed25519PrivateKey, name: str, timestamp: int) -> str:
    """A witness's answer line, built by hand from the spec (not with the module's code)."""
    public = witness.public_key().public_bytes_raw()
    key_id = CosignatureVerifier(name, public).key_hash.to_bytes(4, "big")
    signed = b"cosignature/v1\ntime %d\n" % timestamp + body.encode()
    raw = key_id + timestamp.to_bytes(8, "big") + witness.sign(signed)
    return f"— {name} {base64.b64encode(raw).decode()}\n"


WITNESS = Ed25519PrivateKey.from_private_bytes(bytes(range(100, 132)))
WITNESS_KEY = CosignatureVerifier("witness.example/w1", WITNESS.public_key().public_bytes_raw())


def test_a_witness_answer_merges_onto_the_checkpoint_and_verifies() -> None:
    log = parse_signer_key(KEY_PAIRS["Log"][0])
    body = Checkpoint("casecenter.example/audit", 7, ROOT, ("time 2025-03-01T16:00:00Z",)).body()
    signed = open_note(sign_note(body, log), [log.verifier()])
    answer = cosign(body, WITNESS, "witness.example/w1", 1740844800)
    merged = sign_note(Note(body, signed.signatures, parse_signature_lines(answer)))
    checkpoint, note = open_checkpoint(
        merged, "casecenter.example/audit", log.verifier(), WITNESS_KEY
    )
    assert [s.name for s in note.signatures] == ["Log", "witness.example/w1"]
    assert cosignature_time(note.signatures[1]) == datetime(2025, 3, 1, 16, 0, tzinfo=UTC)
    assert checkpoint.made_at() == datetime(2025, 3, 1, 16, 0, tzinfo=UTC)
    # Round trip through the vkey string: type 0x04 comes back a cosignature verifier.
    assert parse_verifier_key(WITNESS_KEY.verifier_key()) == WITNESS_KEY


def test_a_cosignature_with_another_time_or_body_is_refused() -> None:
    answer = cosign(C2SP_BODY, WITNESS, "witness.example/w1", 1679315147)
    assert open_note(C2SP_BODY + "\n" + answer, [WITNESS_KEY]).signatures
    (sig,) = parse_signature_lines(answer)
    raw = bytearray(base64.b64decode(sig.base64))
    raw[11] ^= 1  # the timestamp's last byte
    moved = Signature(sig.name, sig.key_hash, base64.b64encode(raw).decode()).line()
    for message in (C2SP_BODY + "\n" + moved, C2SP_BODY.replace("3\n", "4\n") + "\n" + answer):
        with pytest.raises(BadSignature, match="witness.example/w1"):
            open_note(message, [WITNESS_KEY])


def test_a_cosignature_is_not_a_plain_signature_of_the_same_key() -> None:
    answer = cosign(C2SP_BODY, WITNESS, "witness.example/w1", 1679315147)
    plain = Ed25519Verifier(WITNESS_KEY.name, WITNESS_KEY.public_key)
    with pytest.raises(NoVerifiedSignature):
        open_note(C2SP_BODY + "\n" + answer, [plain])


def test_a_cosignature_timestamp_past_2_63_is_refused() -> None:
    with pytest.raises(ValueError, match="2\\*\\*63"):
        cosignature_message(C2SP_BODY, 2**63)
    key_id = WITNESS_KEY.key_hash.to_bytes(4, "big")
    raw = key_id + (2**63).to_bytes(8, "big") + bytes(64)
    line = Signature(WITNESS_KEY.name, WITNESS_KEY.key_hash, base64.b64encode(raw).decode()).line()
    with pytest.raises(BadSignature):
        open_note(C2SP_BODY + "\n" + line, [WITNESS_KEY])
