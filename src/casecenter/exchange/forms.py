"""Forms of the exchange pages. They check the shape of what is posted; the
services decide whether it is accepted (route, state, who may)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casecenter.accounts.models import Organisation, OrganisationKind, Role, User
from casecenter.exchange import services, steps
from casecenter.exchange.models import PackageKind
from casecenter.web.forms import moment_field


def organisations(*kinds: str) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("to"),
        queryset=Organisation.objects.filter(kind__in=kinds).order_by("code"),
        empty_label=None,
    )


class SendForm(forms.Form):
    """Hand a police case over (the case page)."""

    kind = forms.ChoiceField(
        label=_("what is handed over"),
        choices=[
            (PackageKind.PROSECUTION_REVIEW, PackageKind.PROSECUTION_REVIEW.label),
            (PackageKind.LEGAL_AID, PackageKind.LEGAL_AID.label),
        ],
    )
    receiver = organisations(OrganisationKind.PROCURATORATE, OrganisationKind.LEGAL_AID)
    request = forms.CharField(
        label=_("request (empty: the usual wording)"), max_length=500, required=False
    )


class RevealForm(forms.Form):
    """Ask for a person's full ID number or phone, saying why (audited)."""

    field = forms.ChoiceField(
        label=_("value"), choices=[("id_number", _("ID number")), ("phone", _("Phone"))]
    )
    purpose = forms.CharField(label=_("what for"), min_length=4, max_length=500)


class ReasonsForm(forms.Form):
    reasons = forms.CharField(
        label=_("reasons"),
        max_length=services.MAX_REASONS,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class VerifyFileForm(forms.Form):
    file = forms.FileField(
        label=_("package zip"), widget=forms.ClearableFileInput(attrs={"accept": ".zip"})
    )


class LawyerForm(forms.Form):
    lawyer = forms.ModelChoiceField(
        label=_("duty lawyer"), queryset=User.objects.none(), empty_label=None
    )

    def __init__(self, *args, organisation_id: int, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["lawyer"].queryset = User.objects.filter(
            organisation_id=organisation_id, role=Role.DUTY_LAWYER, is_active=True
        ).order_by("username")


class MeetingForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("how"),
        choices=[("on_site", _("in person at the center")), ("remote", _("by video"))],
    )
    started_at = moment_field(_("met at"))
    minutes = forms.IntegerField(label=_("minutes"), min_value=5, max_value=480, initial=30)


class IndictForm(forms.Form):
    court = organisations(OrganisationKind.COURT)
    charge = forms.CharField(label=_("charge"), max_length=200, initial="危险驾驶罪")
    proposal = forms.CharField(
        label=_("sentencing proposal"), max_length=500, initial="拘役二个月，并处罚金人民币四千元"
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["court"].label = _("court")


def _centers() -> list[tuple[str, str]]:
    names = Organisation.objects.filter(kind=OrganisationKind.CASE_CENTER).values_list(
        "name", flat=True
    )
    return [(n, n) for n in names]


class HearingForm(forms.Form):
    hearing_at = forms.DateTimeField(
        label=_("hearing at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        # the fast track's hearing is held at the center as soon as the court is there
        initial=lambda: timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    )
    place = forms.CharField(label=_("place"), max_length=200)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        centers = _centers()
        if centers:
            self.fields["place"].initial = f"{centers[0][0]}（就地开庭）"


class JudgmentForm(forms.Form):
    verdict = forms.CharField(
        label=_("judgment"), max_length=steps.MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )
    hearing_at = moment_field(_("hearing held at"))
    judgment_at = moment_field(_("judgment pronounced at"))


class OutcomeForm(forms.Form):
    outcome = forms.CharField(
        label=_("outcome"),
        max_length=services.MAX_REASONS,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
