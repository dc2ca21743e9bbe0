"""Forms of the dossier page. They check the shape of what is posted; the
services decide whether it is accepted (file type, review state, who may)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from casecenter.cases.models import Case
from casecenter.dossiers import services
from casecenter.dossiers.models import DocumentKind, Review

#: what the browser offers to pick (the service checks the file's first bytes)
ACCEPT = ".pdf,.ofd,image/jpeg,image/png,image/tiff"


def _file() -> forms.FileField:
    return forms.FileField(
        label=_("file (PDF, OFD or an image: JPEG, PNG, TIFF)"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".pdf,.ofd,image/jpeg,image/png,image/tiff"}
        ),
    )


def _note() -> forms.CharField:
    return forms.CharField(label=_("note"), max_length=500, required=False)


class DocumentForm(forms.Form):
    """A new document of the dossier with its first file."""

    kind = forms.ChoiceField(label=_("kind of document"), choices=DocumentKind.choices)
    title = forms.CharField(
        label=_("title (empty: the kind's name)"), max_length=200, required=False
    )
    file = _file()
    note = _note()


class VersionForm(forms.Form):
    """A corrected or completed file; ``expected_versions`` is what the page showed."""

    file = _file()
    note = _note()
    expected_versions = forms.IntegerField(min_value=0, max_value=10**6, widget=forms.HiddenInput)


class ReviewForm(forms.Form):
    """Approve, or return with reasons, the version the reviewer saw."""

    decision = forms.ChoiceField(choices=Review.Decision.choices, widget=forms.HiddenInput)
    version = forms.IntegerField(min_value=1, max_value=10**6, widget=forms.HiddenInput)
    reasons = forms.CharField(
        label=_("reasons"),
        max_length=services.MAX_REASONS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class GenerateForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k, DocumentKind(k).label) for k in services.GENERATED])


class LendForm(forms.Form):
    """The paper dossier lent to one of the case's officers."""

    borrower = forms.TypedChoiceField(label=_("borrower"), coerce=int)
    purpose = forms.CharField(label=_("purpose"), max_length=200)

    def __init__(self, *args, case: Case, **kwargs):
        kwargs.setdefault("auto_id", "id_loan_%s")
        super().__init__(*args, **kwargs)
        team = case.assignments.filter(ended_at__isnull=True, user__is_active=True).select_related(
            "user"
        )
        self.fields["borrower"].choices = [
            (a.user_id, f"{a.user} ({a.get_role_display()})") for a in team
        ]
