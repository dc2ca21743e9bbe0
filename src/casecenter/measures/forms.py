from django import forms
from django.utils.translation import gettext_lazy as _

from casecenter.cases.models import AssignmentRole, Case, CaseKind, PartyRole
from casecenter.measures.models import Measure, MeasureEvent, MeasureKind
from casecenter.measures.services import CRIMINAL_ONLY, MOMENTS
from casecenter.supervision.forms import variant_choices
from casecenter.web.forms import moment_field

K = MeasureKind


def kind_choices(case: Case) -> list[tuple[str, str]]:
    """The measures the law allows in a case of this kind."""
    if case.kind == CaseKind.CRIMINAL:
        allowed = [k for k in K if k != K.ADMIN_DETENTION]
    else:
        allowed = [k for k in K if k not in CRIMINAL_ONLY]
    return [(k.value, k.label) for k in allowed]


def summons_choices(case: Case) -> list[tuple[str, str]]:
    """How long a summons may last in this case: the rule's periods."""
    return variant_choices(
        "summons.criminal" if case.kind == CaseKind.CRIMINAL else "summons.admin"
    )


class StartMeasureForm(forms.Form):
    party = forms.TypedChoiceField(label=_("suspect"), coerce=int)
    kind = forms.ChoiceField(label=_("measure"))
    started_at = moment_field(_("started at (arrival, detention, decision)"))
    officers = forms.TypedMultipleChoiceField(
        label=_("officers taking part (two at least)"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    variant = forms.ChoiceField(label=_("summons length (summons only)"))
    designated_residence = forms.BooleanField(
        label=_("designated residence (surveillance only)"), required=False
    )
    term_days = forms.IntegerField(
        label=_("term in days (administrative detention)"),
        min_value=1,
        max_value=20,
        required=False,
    )

    def __init__(self, *args, case: Case, **kwargs):
        kwargs.setdefault("auto_id", "id_measure_%s")
        super().__init__(*args, **kwargs)
        suspects = case.parties.filter(role=PartyRole.SUSPECT).select_related("person")
        team = case.assignments.filter(
            ended_at__isnull=True, role__in=[AssignmentRole.LEAD, AssignmentRole.ASSISTING]
        ).select_related("user")
        self.fields["party"].choices = [(p.pk, p.person.name) for p in suspects]
        self.fields["kind"].choices = kind_choices(case)
        self.fields["officers"].choices = [(a.user_id, str(a.user)) for a in team]
        self.fields["officers"].initial = [a.user_id for a in team]
        self.fields["variant"].choices = summons_choices(case)
        # a term is decided for administrative detention, a residence for surveillance
        del self.fields["designated_residence" if case.kind != CaseKind.CRIMINAL else "term_days"]

    @property
    def has_suspects(self) -> bool:
        return bool(self.fields["party"].choices)


class MomentForm(forms.Form):
    moment = forms.ChoiceField(label=_("moment"))
    at = moment_field(_("time"))
    note = forms.CharField(label=_("note"), max_length=2000, required=False)

    def __init__(self, *args, measure: Measure, moments=None, **kwargs):
        kwargs.setdefault("auto_id", f"id_m{measure.pk}_%s")
        super().__init__(*args, **kwargs)
        names = MOMENTS.get(measure.kind, []) if moments is None else moments
        self.fields["moment"].choices = [(m, MeasureEvent.Kind(m).label) for m in names]


class EndMeasureForm(forms.Form):
    at = moment_field(_("ended at"))
    reason = forms.CharField(label=_("reason"), max_length=2000)

    def __init__(self, *args, measure: Measure, **kwargs):
        kwargs.setdefault("auto_id", f"id_end{measure.pk}_%s")
        super().__init__(*args, **kwargs)
