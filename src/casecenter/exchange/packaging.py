"""A package's bytes: the snapshot of a dossier, the property list, the signed
manifest, its verification against what is stored, and the zip for systems
outside casecenter.

The files of a package are the dossier's files as they are kept — by SHA-256 in
the dossier storage — so a snapshot copies nothing: it lists each document's
current version under a path, with its hash and size, and the sending
organisation signs that list (``manifest``). Verifying reads the manifest and
every file again from where they are kept; a byte changed anywhere since the
signature is found.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any, BinaryIO

from django.template.loader import render_to_string
from django.utils import timezone, translation

from casecenter.accounts.models import Organisation
from casecenter.dossiers import storage
from casecenter.dossiers.models import Document, DocumentKind, Dossier
from casecenter.exchange import keys, manifest
from casecenter.exchange.models import Package, SigningKey

SUFFIX = {content_type: suffix for _, content_type, suffix in storage.SIGNATURES}
SUFFIX[storage.HTML[0]] = storage.HTML[1]


@dataclass(frozen=True)
class File:
    """A file going into a package: the manifest entry and where its bytes are."""

    path: str
    kind: str
    title: str
    blob: storage.Blob

    @property
    def entry(self) -> manifest.Entry:
        return manifest.Entry(self.path, self.blob.sha256, self.blob.size, self.kind, self.title)


def _blob_of(version: Any) -> storage.Blob:
    return storage.Blob(version.sha256, version.size, version.storage_name, version.content_type)


#: what a kind of package carries of the dossier, where not all of it: the least
#: the receiver needs (a legal-aid center the notice, the police the judgment)
KIND_DOCUMENTS = {
    "legal_aid": frozenset({DocumentKind.LEGAL_AID_NOTICE}),
    "judgment": frozenset({DocumentKind.JUDGMENT}),
}


def dossier_files(dossier: Dossier | None, package_kind: str = "") -> list[File]:
    """Each document of the dossier at its current version, in dossier order (only
    the kinds a package of ``package_kind`` carries)."""
    if dossier is None:
        return []
    files = []
    documents = Document.objects.filter(dossier=dossier).prefetch_related("versions")
    if package_kind in KIND_DOCUMENTS:
        documents = documents.filter(kind__in=KIND_DOCUMENTS[package_kind])
    for document in documents.order_by("number"):
        versions = sorted(document.versions.all(), key=lambda v: v.number)
        if not versions:
            continue
        version = versions[-1]
        suffix = SUFFIX.get(version.content_type, "bin")
        path = f"documents/{document.number:03d}-{document.kind}-v{version.number}.{suffix}"
        files.append(File(path, document.kind, document.title, _blob_of(version)))
    return files


def property_list_file(case: Any) -> File | None:
    """The case's seized property as a printable list (涉案财物清单), or None."""
    items = list(case.items.select_related("location").order_by("number"))
    if not items:
        return None
    with translation.override("zh-hans"):
        html = render_to_string(
            "exchange/generated/property_list.html",
            {"case": case, "items": items, "today": timezone.localdate()},
        )
    blob = storage.put_bytes(html.encode(), generated_html=True)
    return File(
        "property/property-list.html",
        DocumentKind.PROPERTY_LIST,
        str(DocumentKind.PROPERTY_LIST.label),
        blob,
    )


def organisation_json(org: Organisation) -> dict[str, str]:
    return {"code": org.code, "name": org.name, "kind": org.kind}


def sign(
    *,
    number: str,
    sender: Organisation,
    receiver: Organisation,
    case: dict[str, Any],
    request: str,
    files: Iterable[File],
    extra: dict[str, Any],
) -> tuple[str, str, SigningKey]:
    """The manifest's canonical text and its signature by the sender's key in use."""
    key = keys.active_key(sender)
    signed = manifest.build_manifest(
        package=number,
        sender=organisation_json(sender),
        receiver=organisation_json(receiver),
        case=case,
        request=request,
        created_at=timezone.localtime().isoformat(timespec="seconds"),
        entries=[f.entry for f in files],
        signer=key.key_id,
        extra=extra,
    )
    signature = manifest.sign(signed, keys.private_key(key))
    return manifest.canonical(signed).decode("utf-8"), signature, key


def _open_stored(package: Package):  # type: ignore[no-untyped-def]
    names = {f.path: f.storage_name for f in package.files.all()}

    def open_file(path: str) -> IO[bytes] | None:
        name = names.get(path)
        if name is None:
            return None
        try:
            return storage.open_blob(name)
        except FileNotFoundError:
            return None

    return names, open_file


def verify(package: Package) -> manifest.Verdict:
    """Verify a stored package as its receiver does: the sender organisation's keys
    (retired ones too) must have signed the manifest as stored, and every file,
    read again from storage, must be the one listed."""
    trusted = {
        k.key_id: manifest.load_public_key(k.public_key)
        for k in SigningKey.objects.filter(organisation_id=package.sender_id)
    }
    names, open_file = _open_stored(package)
    return manifest.verify(
        package.manifest.encode("utf-8"), package.signature, trusted, open_file, names
    )


def manifest_of(package: Package) -> dict[str, Any]:
    return json.loads(package.manifest)


def write_zip(package: Package, target: str | BinaryIO) -> None:
    """The package as a zip (format ``casecenter-package/1``, docs/package-format.md).
    ``ValueError`` if the signature or a file no longer matches."""
    key = SigningKey.objects.filter(key_id=package.signer).first()
    if key is None:
        raise ValueError(f"the signing key {package.signer} is not registered")
    names, open_file = _open_stored(package)

    def open_entry(entry: manifest.Entry) -> IO[bytes]:
        stream = open_file(entry.path)
        if stream is None:
            raise ValueError(f"{entry.path} is missing from storage")
        return stream

    manifest.write_zip(
        target,
        manifest_of(package),
        package.signature,
        manifest.load_public_key(key.public_key),
        open_entry,
    )
