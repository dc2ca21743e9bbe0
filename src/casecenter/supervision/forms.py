from datetime import timedelta

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from casecenter import law
from casecenter.accounts.models import ALERTED_ROLES, Role
from casecenter.supervision.models import Rule, Severity

MINUTES_IN_A_YEAR = 366 * 24 * 60
UNIT_LABELS = {
    "hour": _("hours"),
    "day": _("days"),
    "month": _("months"),
    "workday": _("working days"),
}


def in_minutes(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds() // 60)


#: The UI's names of the period variants of ``law.RULES`` (the law has them in English).
VARIANT_LABELS = {
    "default": _("standard period"),
    "major_complex": _("major or complex case"),
    "detention_possible": _("administrative detention may follow"),
    "special": _("special case (up to 4 more days)"),
    "roving_gang": _("roving, repeated or gang crime"),
    "extended": _("extended (approved)"),
    "verify": _("the lead must be verified"),
    "major": _("major, difficult, complex"),
    "long_sentence": _("sentence over one year possible"),
}


def in_english() -> bool:
    """Whether the request speaks English (Chinese is the default)."""
    return (get_language() or "").startswith("en")


def period_text(period: law.Period) -> str:
    return period.describe_en() if in_english() else period.describe_zh()


def variant_choices(rule_code: str, current: str = "") -> list[tuple[str, str]]:
    """The periods of a rule, each with its variant's name, but for ``current``
    (an extension chooses a period other than the running one)."""
    spec = law.RULES.get(rule_code)
    if spec is None:
        return []
    return [
        (
            name,
            f"{period_text(period)} · {VARIANT_LABELS.get(name, spec.variant_en.get(name, name))}",
        )
        for name, period in spec.periods.items()
        if name != current
    ]


class ExtendForm(forms.Form):
    variant = forms.ChoiceField(label=_("new period"))
    reason = forms.CharField(
        label=_("reason for the extension"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, variant_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["variant"].choices = variant_choices


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("how it was resolved"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RuleForm(forms.Form):
    """Local tuning of a rule; the period fields only for a policy rule."""

    severity = forms.ChoiceField(label=_("severity"), choices=Severity.choices)
    audience = forms.MultipleChoiceField(
        label=_("also told (roles)"),
        required=False,
        choices=[(r.value, r.label) for r in Role if r in ALERTED_ROLES],
        widget=forms.CheckboxSelectMultiple,
    )
    warn_before = forms.IntegerField(
        label=_("warn this many minutes before the due time"),
        min_value=0,
        max_value=MINUTES_IN_A_YEAR,
        required=False,
    )
    escalate_after = forms.IntegerField(
        label=_("escalate when not acknowledged within (minutes)"),
        min_value=1,
        max_value=MINUTES_IN_A_YEAR,
        required=False,
    )
    enabled = forms.BooleanField(label=_("enabled"), required=False)
    policy_length = forms.IntegerField(
        label=_("period (local policy)"), min_value=1, max_value=10_000, required=False
    )
    policy_unit = forms.ChoiceField(
        label=_("period unit"), choices=[("", "—"), *UNIT_LABELS.items()], required=False
    )

    def __init__(self, *args, rule: Rule, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "severity": rule.severity,
                "audience": rule.audience,
                "warn_before": in_minutes(rule.warn_before),
                "escalate_after": in_minutes(rule.escalate_after),
                "enabled": rule.enabled,
                "policy_length": rule.policy_length,
                "policy_unit": rule.policy_unit,
            },
        )
        super().__init__(*args, **kwargs)
        if rule.kind != "policy":
            del self.fields["policy_length"], self.fields["policy_unit"]

    def changes(self) -> dict:
        """The cleaned values as ``tune_rule`` takes them."""
        data = dict(self.cleaned_data)
        for name in ("warn_before", "escalate_after"):
            if data[name] is not None:
                data[name] = timedelta(minutes=data[name])
        if "policy_length" in data and not data["policy_length"]:
            data["policy_length"], data["policy_unit"] = None, ""
        return data
