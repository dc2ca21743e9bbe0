from django import forms
from django.utils.translation import gettext_lazy as _

from casecenter.cases.models import CaseKind, Category
from casecenter.incidents.models import Channel


class IncidentForm(forms.Form):
    channel = forms.ChoiceField(label=_("channel"), choices=Channel.choices)
    received_at = forms.DateTimeField(
        label=_("received at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    place = forms.CharField(label=_("place"), max_length=200)
    category = forms.ChoiceField(label=_("category"), choices=Category.choices)
    summary = forms.CharField(
        label=_("summary"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    reporter_name = forms.CharField(label=_("reporter's name"), max_length=100, required=False)
    reporter_phone = forms.CharField(label=_("reporter's phone"), max_length=40, required=False)
    reporter_id_number = forms.CharField(
        label=_("reporter's ID number"), max_length=30, required=False
    )


class ConvertForm(forms.Form):
    kind = forms.ChoiceField(label=_("case kind"), choices=CaseKind.choices)
    category = forms.ChoiceField(label=_("category"), choices=Category.choices)
    title = forms.CharField(label=_("title"), max_length=200, required=False)
    secret = forms.BooleanField(label=_("secret (涉密)"), required=False)


class CloseForm(forms.Form):
    reason = forms.CharField(
        label=_("how it was dealt with"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class RevealForm(forms.Form):
    purpose = forms.CharField(label=_("why you need the full number"), max_length=500)
