"""Dossiers (卷宗, F5): typed documents, their file versions, legal review, lending.

A dossier belongs to one organisation: a police case's dossier (``case``) or,
at the procuratorate, the court and legal aid, the dossier of the matter they
opened from a hand-over package (the exchange app links it). A document is a
typed entry (an interrogation record, an appraisal opinion, a decision…);
every upload is a new ``Version`` whose file is kept under its SHA-256 — nothing
is overwritten or deleted. Legal review (法制审核) decides on a document's
latest version: approved, or returned with reasons; a new version asks again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    REGISTRATION_FORM = "registration_form", _("Case registration form (受案登记表)")
    FILING_DECISION = "filing_decision", _("Filing decision (立案决定书)")
    INTERROGATION_RECORD = "interrogation_record", _("Interrogation record (讯问笔录)")
    INQUIRY_RECORD = "inquiry_record", _("Inquiry record (询问笔录)")
    EVIDENCE = "evidence", _("Evidence (证据材料)")
    APPRAISAL_OPINION = "appraisal_opinion", _("Appraisal opinion (鉴定意见)")
    MEASURE_DECISION = "measure_decision", _("Compulsory-measure decision (强制措施决定书)")
    ADMIN_DECISION = "admin_decision", _("Administrative penalty decision (行政处罚决定书)")
    PROSECUTION_OPINION = "prosecution_opinion", _("Opinion recommending prosecution (起诉意见书)")
    FAST_TRACK_OPINION = "fast_track_opinion", _("Fast-track opinion (速裁程序建议书)")
    LAWYER_ASSIGNMENT = "lawyer_assignment", _("Legal-aid assignment notice (指派辩护通知书)")
    LEGAL_AID_NOTICE = "legal_aid_notice", _("Notice to provide legal aid (提供法律援助通知书)")
    PROPERTY_LIST = "property_list", _("List of seized property (涉案财物清单)")
    INDICTMENT = "indictment", _("Indictment (起诉书)")
    JUDGMENT = "judgment", _("Judgment (判决书)")
    OTHER = "other", _("Other document")


class ReviewState(models.TextChoices):
    PENDING = "pending", _("Awaiting legal review")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned for correction")
    NOT_REQUIRED = "not_required", _("No review needed")


class Dossier(models.Model):
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="dossiers"
    )
    case = models.OneToOneField(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="dossier"
    )
    title = models.CharField(_("title"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    #: where the paper dossier is: in the archive, or lent (the open loan says to whom)
    paper = models.BooleanField(_("has a paper dossier"), default=True)

    class Meta:
        verbose_name = _("dossier")

    def __str__(self) -> str:
        return self.title


class Document(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="documents")
    number = models.PositiveIntegerField()  # its place in the dossier (1, 2, …)
    kind = models.CharField(_("kind"), max_length=30, choices=DocumentKind.choices)
    title = models.CharField(_("title"), max_length=200)
    review_state = models.CharField(
        _("review"), max_length=15, choices=ReviewState.choices, default=ReviewState.PENDING
    )
    versions_count = models.PositiveIntegerField(default=0)
    #: rendered from the case's data by casecenter (not uploaded)
    generated = models.BooleanField(default=False)
    #: where it came from when another organisation sent it ("package:<number>")
    source = models.CharField(max_length=60, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["dossier_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["dossier", "number"], name="document_number_once")
        ]
        verbose_name = _("document")

    def __str__(self) -> str:
        return f"{self.number:03d} {self.title}"

    @property
    def current(self) -> Version | None:
        return self.versions.order_by("-number").first()


class Version(models.Model):
    """One file of a document; kept for good under its SHA-256."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=100)
    filename = models.CharField(max_length=200)
    storage_name = models.CharField(max_length=200)
    note = models.CharField(_("note"), max_length=500, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["document_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="version_number_once")
        ]


class Review(models.Model):
    """A legal-review decision on one version: one decision per version (the
    database refuses a second, so two reviewers at once cannot both decide)."""

    class Decision(models.TextChoices):
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Returned for correction")

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="reviews")
    version = models.PositiveIntegerField()
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reasons = models.TextField(blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["document_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["document", "version"], name="one_review_per_version")
        ]


class Loan(models.Model):
    """A paper dossier lent out (借阅), due back under ``dossier.return``."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="loans")
    borrower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="loans"
    )
    purpose = models.CharField(_("purpose"), max_length=200)
    lent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    lent_at = models.DateTimeField()
    due_at = models.DateTimeField()
    returned_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-lent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dossier"],
                condition=models.Q(returned_at__isnull=True),
                name="one_open_loan_per_dossier",
            )
        ]
