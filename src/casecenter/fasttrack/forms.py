"""Forms of the fast track: the eligibility checklist and the police's steps."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casecenter.accounts.models import OrganisationKind
from casecenter.cases.models import Party, PartyRole
from casecenter.exchange.forms import organisations
from casecenter.web.forms import moment_field


class StartForm(forms.Form):
    """The eligibility checklist (CPL Art. 222–223), each item confirmed by the officer."""

    suspect = forms.ModelChoiceField(
        label=_("suspect"), queryset=Party.objects.none(), empty_label=None
    )
    captured_at = moment_field(_("captured at"))
    admits_guilt = forms.BooleanField(
        label=_("admits guilt and accepts punishment (认罪认罚)"), required=False
    )
    facts_clear = forms.BooleanField(
        label=_("facts clear, evidence reliable and sufficient"), required=False
    )
    expected_sentence_months = forms.IntegerField(
        label=_("expected sentence (months; at most 36)"), min_value=0, max_value=600, initial=2
    )
    no_exclusion = forms.BooleanField(
        label=_("none of CPL Art. 223's exclusions applies"), required=False
    )

    def __init__(self, *args, case, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        suspects = case.parties.filter(role=PartyRole.SUSPECT).select_related("person")
        self.fields["suspect"].queryset = suspects
        self.fields["suspect"].label_from_instance = lambda p: p.person.name
        detention = (
            case.measures.filter(kind__in=["criminal_detention", "summons", "compelled_appearance"])
            .order_by("started_at")
            .first()
        )
        caught = detention.started_at if detention is not None else case.occurred_at
        if caught is not None:  # caught in the act: the time of the act
            self.fields["captured_at"].initial = timezone.localtime(caught).strftime(
                "%Y-%m-%dT%H:%M"
            )


class LegalAidForm(forms.Form):
    legal_aid = organisations(OrganisationKind.LEGAL_AID)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["legal_aid"].label = _("legal-aid center")


class SubmitForm(forms.Form):
    procuratorate = organisations(OrganisationKind.PROCURATORATE)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["procuratorate"].label = _("procuratorate")


class AbandonForm(forms.Form):
    reason = forms.CharField(
        label=_("why the ordinary procedure"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
