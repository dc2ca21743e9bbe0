"""Forms of the registration desk and the interrogation desk."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from casecenter.custody.models import Session


class EntryForm(forms.Form):
    wristband = forms.TypedChoiceField(label=_("wristband"), coerce=int)
    searched_by = forms.TypedChoiceField(label=_("safety check by (same sex)"), coerce=int)
    measure = forms.TypedChoiceField(
        label=_("measure whose clock the arrival starts"),
        coerce=int,
        required=False,
        empty_value=None,
    )
    identity_checked = forms.BooleanField(
        label=_("identity checked against the case's person"), required=True
    )
    health = forms.CharField(
        label=_("health check"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )
    injuries = forms.BooleanField(label=_("visible injuries"), required=False)
    belongings = forms.CharField(
        label=_("belongings, one per line (e.g. 手机 x1)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
    )

    def __init__(self, *args, wristbands=(), officers=(), measures=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["wristband"].choices = wristbands
        self.fields["searched_by"].choices = officers
        self.fields["measure"].choices = [("", "—"), *measures]


def parse_belongings(text: str) -> list[tuple[str, int]]:
    """ "手机 x1" / "钥匙 ×2" / "钱包" → [("手机", 1), ("钥匙", 2), ("钱包", 1)]."""
    import re

    items = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        match = re.match(r"^(.*?)\s*[x×*]\s*(\d{1,3})$", line)
        if match and match.group(1).strip():
            items.append((match.group(1).strip(), int(match.group(2))))
        else:
            items.append((line, 1))
    return items


class ExitForm(forms.Form):
    reason = forms.CharField(label=_("leaves for"), max_length=200)


class SessionForm(forms.Form):
    zone = forms.TypedChoiceField(label=_("room"), coerce=int)
    kind = forms.ChoiceField(label=_("session"), choices=Session.Kind.choices)
    officers = forms.TypedMultipleChoiceField(
        label=_("officers"), coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, zones=(), officers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["zone"].choices = zones
        self.fields["officers"].choices = officers
