import re
from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from casecenter import law
from casecenter.accounts.models import ALERTED_ROLES, Role
from casecenter.supervision.models import AlertState, Rule, Severity

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


# --- the alert list: filters and (bulk) acknowledgement ------------------------------

ALERT_STATES = [("active", _("Not resolved")), ("", _("All states")), *AlertState.choices]
ALERT_SORTS = [
    ("newest", _("Newest first")),
    ("oldest", _("Oldest first")),
    ("severity", _("Most severe first")),
    ("rule", _("By rule")),
]
ALERT_GROUPING = [("1", _("Repeats grouped")), ("0", _("Every alert"))]


class AlertFilterForm(forms.Form):
    """The alert list's filters, from the query string. A value that does not
    parse falls back to its default (``values``); one that parses but names
    nothing of the user's gives an empty list (the selector's job)."""

    state = forms.ChoiceField(choices=ALERT_STATES, required=False)
    rule = forms.CharField(max_length=60, required=False)
    severity = forms.ChoiceField(choices=[("", ""), *Severity.choices], required=False)
    case = forms.CharField(max_length=40, required=False)
    organisation = forms.IntegerField(min_value=1, max_value=2**53, required=False)
    subject = forms.CharField(max_length=60, required=False)
    sort = forms.ChoiceField(choices=ALERT_SORTS, required=False)
    group = forms.ChoiceField(choices=ALERT_GROUPING, required=False)

    #: the page's defaults when a parameter is absent (not when it is empty:
    #: "state=" is every state)
    DEFAULTS = {"state": "active", "sort": "newest", "group": "1"}

    def __init__(self, data, *args, **kwargs):
        data = data.copy()
        for name, value in self.DEFAULTS.items():
            if name not in data:
                data[name] = value
        super().__init__(data, *args, **kwargs)

    def values(self) -> dict[str, str]:
        """Every parameter as the query string carries it, cleaned; one that
        does not parse is its default (so are an empty order and grouping)."""
        self.is_valid()
        values = {}
        for name in self.fields:
            value = self.cleaned_data.get(name) if name not in self.errors else None
            values[name] = "" if value is None else str(value)
        for name in ("sort", "group"):
            values[name] = values[name] or self.DEFAULTS[name]
        return values

    def grouped(self) -> bool:
        return self.values()["group"] == "1"

    def criteria(self) -> dict:
        """The filters as the selectors take them (not the order, not the grouping)."""
        values = self.values()
        del values["group"], values["sort"]
        values["organisation"] = int(values["organisation"]) if values["organisation"] else None
        return values

    def order(self) -> str:
        return self.values()["sort"]


class AcknowledgeForm(forms.Form):
    note = forms.CharField(label=_("note (optional)"), max_length=2000, required=False)


_ID = re.compile(r"[0-9]{1,15}")
_GROUP = re.compile(r"([0-9]{1,15})\|([a-z0-9_.]{1,60})\|(.{0,60})", re.DOTALL)


class IdListField(forms.Field):
    """Many alert ids from checkboxes of one name."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        values = value or []
        if not all(isinstance(v, str) and _ID.fullmatch(v) for v in values):
            raise ValidationError(_("Not an alert of this list."), code="invalid")
        return sorted({int(v) for v in values})


class GroupListField(forms.Field):
    """Many groups of repeats, each "<last id>|<rule>|<subject>" (``AlertGroup.token``)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[tuple[int, str, str]]:
        groups = []
        for v in value or []:
            match = _GROUP.fullmatch(v) if isinstance(v, str) else None
            if match is None or "\x00" in v:
                raise ValidationError(_("Not a group of this list."), code="invalid")
            groups.append((int(match[1]), match[2], match[3]))
        return groups


class BulkAcknowledgeForm(forms.Form):
    """Acknowledge the chosen alerts and groups with one reason. "All on this
    page" takes the page's rows (listed in hidden fields) without JavaScript."""

    ids = IdListField(required=False)
    groups = GroupListField(required=False)
    all = forms.BooleanField(label=_("Select all on this page"), required=False)
    page_ids = IdListField(required=False)
    page_groups = GroupListField(required=False)
    note = forms.CharField(
        label=_("reason (one for all the chosen alerts)"),
        max_length=2000,
        error_messages={"required": _("Give the reason for acknowledging these alerts.")},
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("all"):
            data["ids"], data["groups"] = data.get("page_ids", []), data.get("page_groups", [])
        if not self.errors and not data.get("ids") and not data.get("groups"):
            raise ValidationError(_("Choose the alerts to acknowledge."), code="empty")
        return data
