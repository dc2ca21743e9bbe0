"""Exchange between organisations (F7): hand-over packages, the receivers' own
records of what they received, and the organisations' signing keys.

Police, procuratorate, court and legal aid "cooperate while each stays
independent" (公检法司在各自独立的情况下相互配合): data crosses between them only
as a ``Package`` (移交材料包) — a snapshot of a dossier (its documents' files and
their SHA-256), the property list and the request, signed with the sending
organisation's Ed25519 key (``manifest``). The receiver signs for it, which
verifies it; accepts it, which opens its own ``Matter`` (受理案件) with its own
dossier; or returns it with reasons. A receiver never reads the sender's tables:
its matter holds what the package brought.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from casecenter.privacy.fields import EncryptedTextField


class SigningKey(models.Model):
    """An organisation's Ed25519 key. The private key is kept encrypted with the
    field keys; the public key is what receivers — and ``casecenter package
    verify`` — trust. A retired key still verifies the packages it signed."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="signing_keys"
    )
    key_id = models.CharField(max_length=16, unique=True)
    public_key = models.CharField(max_length=64)  # base64 of the 32 raw bytes
    private_key = EncryptedTextField(context="exchange.signing_key.private")
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation_id", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=models.Q(retired_at__isnull=True),
                name="one_active_signing_key",
            )
        ]
        verbose_name = _("signing key")

    def __str__(self) -> str:
        return self.key_id


class PackageKind(models.TextChoices):
    """What a package asks of its receiver (the ``request`` of its manifest)."""

    PROSECUTION_REVIEW = (
        "prosecution_review",
        _("Transfer for review for prosecution (移送审查起诉)"),
    )
    FAST_TRACK = "fast_track", _("Fast-track transfer for prosecution (速裁移送审查起诉)")
    LEGAL_AID = "legal_aid", _("Notice to assign a duty lawyer (通知指派值班律师)")
    INDICTMENT = "indictment", _("Public prosecution (提起公诉)")
    JUDGMENT = "judgment", _("Judgment served (判决书送达)")


class PackageState(models.TextChoices):
    SENT = "sent", _("Sent, awaiting signature")
    RECEIVED = "received", _("Signed for and verified")
    REFUSED = "refused", _("Refused: verification failed")
    ACCEPTED = "accepted", _("Accepted by the receiver")
    RETURNED = "returned", _("Returned with reasons")


class Package(models.Model):
    """A hand-over package (移交材料包), numbered per sending organisation and year.

    ``manifest`` holds the signed bytes exactly as signed (UTF-8 text, encrypted at
    rest: it names the people of the case); ``signature`` is their Ed25519
    signature in base64 by key ``signer``. Nothing of a sent package changes but
    its state and who moved it: the receiver's verification reads the manifest and
    the files again, so any later change is found.
    """

    number = models.CharField(_("package number"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=PackageKind.choices)
    sender = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="packages_sent"
    )
    receiver = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="packages_received"
    )
    request = models.CharField(_("request"), max_length=500)
    #: the police case it comes from or goes back to (the police's side only)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="packages"
    )
    #: the sender's own matter it comes from (a partner organisation sending on)
    source_matter = models.ForeignKey(
        "Matter", null=True, blank=True, on_delete=models.PROTECT, related_name="packages_sent"
    )
    fast_track = models.ForeignKey(
        "fasttrack.FastTrack",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="packages",
    )
    #: a corrected package sent again after this one was returned
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    #: the case number and title as the manifest gives them (shown in inboxes)
    case_number = models.CharField(_("case number"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    manifest = EncryptedTextField(context="exchange.package.manifest")
    signature = models.CharField(max_length=100)
    signer = models.CharField(max_length=16)
    files_count = models.PositiveIntegerField(default=0)
    total_bytes = models.BigIntegerField(default=0)
    state = models.CharField(
        _("state"), max_length=10, choices=PackageState.choices, default=PackageState.SENT
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField()
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(null=True, blank=True)
    #: the receiver's verification at signature: {"ok", "problems": [...], "signer", …}
    verification = models.JSONField(default=dict, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reasons = models.TextField(_("reasons"), blank=True)
    #: the receiver's record the package went into when accepted
    matter = models.ForeignKey(
        "Matter", null=True, blank=True, on_delete=models.PROTECT, related_name="packages"
    )

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [
            models.Index(fields=["receiver", "state"], name="package_inbox"),
            models.Index(fields=["sender", "state"], name="package_outbox"),
        ]
        verbose_name = _("hand-over package")

    def __str__(self) -> str:
        return self.number


class PackageFile(models.Model):
    """One file of a package: a manifest entry and where its bytes are kept (the
    dossier storage, by SHA-256 — a snapshot costs no copy)."""

    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="files")
    path = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    kind = models.CharField(max_length=30)
    title = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    storage_name = models.CharField(max_length=200)

    class Meta:
        ordering = ["package_id", "path"]
        constraints = [
            models.UniqueConstraint(fields=["package", "path"], name="package_path_once")
        ]


class MatterKind(models.TextChoices):
    """What the receiving organisation does with what it received."""

    PROSECUTION_REVIEW = "prosecution_review", _("Review for prosecution (审查起诉)")
    FAST_TRACK_REVIEW = "fast_track_review", _("Fast-track review for prosecution (速裁审查起诉)")
    LEGAL_AID = "legal_aid", _("Assignment of a duty lawyer (指派值班律师)")
    TRIAL = "trial", _("Trial (审判)")
    FAST_TRACK_TRIAL = "fast_track_trial", _("Fast-track trial (速裁审判)")


class Matter(models.Model):
    """A partner organisation's own record (受理案件) of a package it accepted: its
    own number, handler, dossier (the package's documents and its own), clocks.

    ``people`` is the list of the case's people as the package named them (JSON,
    encrypted at rest); it is read through the exchange selectors, audited.
    """

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="matters"
    )
    number = models.CharField(_("number"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=MatterKind.choices)
    title = models.CharField(_("title"), max_length=200)
    case_number = models.CharField(_("police case number"), max_length=40)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="matters"
    )
    opened_at = models.DateTimeField()
    #: the moment the law's period counts from: the package's receipt
    received_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    people = EncryptedTextField(context="exchange.matter.people", blank=True)
    dossier = models.OneToOneField(
        "dossiers.Dossier", on_delete=models.PROTECT, related_name="matter"
    )
    fast_track = models.ForeignKey(
        "fasttrack.FastTrack",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="matters",
    )
    #: kind-specific facts: the assigned lawyer, the hearing, the judgment …
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["organisation", "state"], name="matter_org_state")]
        verbose_name = _("matter")

    def __str__(self) -> str:
        return self.number
