"""Hand-over packages: signed by the sender, verified by the receiver against the
sender's keys and the files as stored; a tampered package — a changed file, a
changed manifest, a wrong signature — is refused with a clear reason, and any
change after acceptance is found when the package is verified again."""

from __future__ import annotations

import base64
import json
import threading

import pytest
from django.db import connection, transaction
from django.test import Client

from casecenter.accounts.models import Role
from casecenter.accounts.services import issue_api_token
from casecenter.audit.models import AuditEntry
from casecenter.dossiers import storage
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.exchange import keys, manifest, packaging, sending, services
from casecenter.exchange.models import Matter, Package, PackageFile, PackageState
from casecenter.fasttrack import services as fasttrack
from casecenter.supervision.models import Deadline, DeadlineState


@pytest.fixture
def sent(ready_to_submit, officers, partners):
    return fasttrack.submit(
        officers["legal"], ready_to_submit, procuratorate=partners["orgs"]["jc"]
    )


def codes(package):
    return [(p["code"], p["path"]) for p in package.verification["problems"]]


def overwrite_stored(package_file: PackageFile, data: bytes) -> None:
    """Change a stored file behind casecenter's back (as a disk or an intruder would)."""
    store = storage.storage()
    store.delete(package_file.storage_name)
    store.save(package_file.storage_name, __import__("io").BytesIO(data))


def test_an_untouched_package_is_verified_and_signed_for(sent, partners):
    package = services.receive(partners["prosecutor"], sent)
    assert package.state == PackageState.RECEIVED
    assert package.verification["ok"] and package.verification["signer_checked"]
    assert package.verification["signer"] == keys.active_key(package.sender).key_id
    receipt = Deadline.objects.get(rule_id="exchange.receive", subject=f"package:{package.pk}")
    assert receipt.state == DeadlineState.MET and receipt.organisation == package.receiver


def test_a_changed_file_is_refused_naming_the_file(sent, partners):
    target = sent.files.order_by("path").first()
    overwrite_stored(target, b"%PDF-1.7 forged")
    package = services.receive(partners["prosecutor"], sent)
    assert package.state == PackageState.REFUSED
    assert ("file.size", target.path) in codes(package) or ("file.changed", target.path) in codes(
        package
    )
    with pytest.raises(Conflict):
        services.accept(partners["prosecutor"], package)
    assert not Matter.objects.exists()


def test_a_same_size_change_is_a_changed_hash(sent, partners):
    target = sent.files.order_by("path").first()
    with storage.open_blob(target.storage_name) as fh:
        data = bytearray(fh.read())
    data[-1] ^= 0x01
    overwrite_stored(target, bytes(data))
    package = services.receive(partners["prosecutor"], sent)
    assert codes(package) == [("file.changed", target.path)]
    problem = package.verification["problems"][0]
    assert problem["message_zh"] and problem["message_en"]


def test_a_changed_manifest_breaks_the_signature(sent, partners):
    data = json.loads(sent.manifest)
    data["request"] = "不起诉"  # a word changed in the signed text
    Package.objects.filter(pk=sent.pk).update(manifest=manifest.canonical(data).decode("utf-8"))
    sent.refresh_from_db()
    package = services.receive(partners["prosecutor"], sent)
    assert package.state == PackageState.REFUSED
    assert ("signature.invalid", "") in codes(package)


def test_a_signature_by_another_key_is_refused(sent, partners):
    other = manifest.generate_key()
    forged = base64.b64encode(other.sign(sent.manifest.encode())).decode()
    Package.objects.filter(pk=sent.pk).update(signature=forged)
    sent.refresh_from_db()
    package = services.receive(partners["prosecutor"], sent)
    assert ("signature.invalid", "") in codes(package)


def test_a_package_signed_by_another_organisations_key_names_an_unknown_signer(sent, partners):
    """The court's own registered key re-signs the manifest: casecenter trusts it
    elsewhere, but not as the police station's."""
    court_key = keys.active_key(partners["orgs"]["court"])
    data = json.loads(sent.manifest)
    data["signer"] = court_key.key_id
    signature = manifest.sign(data, keys.private_key(court_key))
    Package.objects.filter(pk=sent.pk).update(
        manifest=manifest.canonical(data).decode("utf-8"), signature=signature
    )
    sent.refresh_from_db()
    package = services.receive(partners["prosecutor"], sent)
    assert ("signer.unknown", "") in codes(package)


def test_a_file_row_removed_or_added_is_missing_or_unexpected(sent, partners):
    first = sent.files.order_by("path").first()
    PackageFile.objects.create(
        package=sent,
        path="documents/999-extra.pdf",
        sha256="0" * 64,
        size=1,
        kind="other",
        title="extra",
        content_type="application/pdf",
        storage_name=first.storage_name,
    )
    first.delete()
    package = services.receive(partners["prosecutor"], sent)
    assert set(codes(package)) == {
        ("file.missing", first.path),
        ("file.unexpected", "documents/999-extra.pdf"),
    }


def test_a_change_after_acceptance_is_found_again_and_the_zip_is_not_exported(sent, partners):
    prosecutor = partners["prosecutor"]
    services.accept(prosecutor, services.receive(prosecutor, sent))
    assert services.reverify(prosecutor, sent).ok
    target = sent.files.order_by("path").last()
    overwrite_stored(target, b"%PDF-1.7 changed after")
    verdict = services.reverify(prosecutor, sent)
    assert not verdict.ok and verdict.problems[0].path == target.path
    assert AuditEntry.objects.filter(action="exchange.package_verified").count() == 2
    with pytest.raises(ValueError):
        packaging.write_zip(sent, __import__("io").BytesIO())
    _, token = issue_api_token(prosecutor, name="test")
    api = Client(headers={"Authorization": f"Bearer {token}"})
    answer = api.get(f"/api/exchange/packages/{sent.pk}/zip")
    assert (answer.status_code, answer.json()["code"]) == (409, "package.changed")


def test_the_zip_verifies_with_the_registered_key_and_not_when_tampered(sent, tmp_path):
    path = tmp_path / "p.zip"
    packaging.write_zip(sent, str(path))
    assert manifest.verify_zip(path, keys.trusted()).ok
    raw = bytearray(path.read_bytes())
    name = next(iter(json.loads(sent.manifest)["entries"]))["path"]
    at = raw.index(b"files/" + name.encode()) + 200  # inside that file's bytes
    raw[at] ^= 0xFF
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(bytes(raw))
    verdict = manifest.verify_zip(tampered, keys.trusted())
    assert not verdict.ok
    assert {p.code for p in verdict.problems} <= {"file.changed", "manifest.malformed"}


def test_only_the_receivers_people_sign_for_it(sent, officers, partners, make_user):
    for outsider in (officers["judge"], officers["lead"], partners["lawyer"]):
        with pytest.raises(PermissionDenied):
            services.receive(outsider, sent)
    sent.refresh_from_db()
    assert sent.state == PackageState.SENT


def test_a_returned_package_is_sent_again_corrected(sent, officers, partners):
    prosecutor = partners["prosecutor"]
    services.receive(prosecutor, sent)
    with pytest.raises(InvalidInput):
        services.return_package(prosecutor, sent, reasons="  ")
    returned = services.return_package(prosecutor, sent, reasons="缺少血液酒精含量鉴定意见")
    assert returned.state == PackageState.RETURNED
    again = sending.resend(officers["legal"], returned)
    assert again.supersedes == returned and again.state == PackageState.SENT
    assert json.loads(again.manifest)["extra"]["supersedes"] == returned.number
    with pytest.raises(Conflict):
        sending.resend(officers["legal"], returned)  # once only


@pytest.mark.django_db(transaction=True)
def test_two_prosecutors_accepting_at_once_open_one_matter(
    ready_to_submit, officers, partners, make_user
):
    second = make_user("prosecutor2", Role.PROSECUTOR, org="jc")
    package = fasttrack.submit(
        officers["legal"], ready_to_submit, procuratorate=partners["orgs"]["jc"]
    )
    services.receive(partners["prosecutor"], package)
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need a file database or PostgreSQL")
    barrier = threading.Barrier(2)
    results: list[str] = []

    def take(user):
        try:
            barrier.wait(5)
            services.accept(user, package)
            results.append("accepted")
        except Conflict:
            results.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(u,)) for u in (partners["prosecutor"], second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["accepted", "conflict"]
    assert Matter.objects.count() == 1
    with transaction.atomic():
        assert Package.objects.get(pk=package.pk).state == PackageState.ACCEPTED
