"""Forms of the request pages. They check the shape of what is posted; the
services decide whether it is accepted (who may, the state, the unit's reach)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from casecenter import law
from casecenter.assistance import services
from casecenter.assistance.models import Channel, Level, Topic
from casecenter.supervision.forms import period_text


def _text(label: str, limit: int, *, required: bool = True, rows: int = 4) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=limit,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def level_label(level: int, label: str, period: law.Period | None) -> str:
    """ "Level 1 (一级响应) — answer within 1 hour"."""
    if period is None:
        return f"{label} — {gettext('no response target (rule switched off)')}"
    target = gettext("answer within %(period)s") % {"period": period_text(period)}
    return f"{label} — {target}"


class AskForm(forms.Form):
    """A request for help: the unit, the level (with its target), what is needed."""

    unit = forms.TypedChoiceField(label=_("Unit asked"), coerce=int)
    level = forms.TypedChoiceField(
        label=_("Response level"), coerce=int, widget=forms.RadioSelect, initial=Level.THREE
    )
    topic = forms.ChoiceField(label=_("Help needed"), choices=Topic.choices)
    question = _text(_("Question (the facts the unit needs, what you ask)"), services.MAX_TEXT)

    def __init__(self, *args, units, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [
            (u.pk, f"{u.organisation} · {u.get_kind_display()}") for u in units
        ]
        self.fields["level"].choices = [
            (level, level_label(level, label, period)) for level, label, period in targets
        ]


class AnswerForm(forms.Form):
    """A unit member's answer to the question of ``round``."""

    channel = forms.ChoiceField(
        label=_("How you answered"), choices=Channel.choices, widget=forms.RadioSelect
    )
    answer = _text(_("Answer"), services.MAX_TEXT, rows=5)
    round = forms.IntegerField(min_value=1, max_value=10_000, widget=forms.HiddenInput)


class FollowUpForm(forms.Form):
    question = _text(_("Follow-up question"), services.MAX_TEXT)


class EscalateForm(forms.Form):
    level = forms.TypedChoiceField(label=_("Raise to"), coerce=int)
    reason = _text(_("Reason"), services.MAX_REASON, rows=2)

    def __init__(self, *args, levels, targets, **kwargs):
        kwargs.setdefault("auto_id", "id_raise_%s")
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = [
            (level, level_label(level, label, period))
            for level, label, period in targets
            if level in levels
        ]


class CloseForm(forms.Form):
    helpful = forms.TypedChoiceField(
        label=_("Did the answer help?"),
        choices=[("yes", _("Helpful")), ("no", _("Not helpful"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    note = _text(_("Note (required when it did not help)"), services.MAX_REASON, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_close_%s")
        super().__init__(*args, **kwargs)


class WithdrawForm(forms.Form):
    reason = _text(_("Reason"), services.MAX_REASON, rows=2)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_withdraw_%s")
        super().__init__(*args, **kwargs)
