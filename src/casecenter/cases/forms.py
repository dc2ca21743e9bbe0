from django import forms
from django.utils.translation import gettext_lazy as _

from casecenter.cases.models import AssignmentRole, CaseKind, Category, PartyRole


class CaseForm(forms.Form):
    kind = forms.ChoiceField(label=_("case kind"), choices=CaseKind.choices)
    category = forms.ChoiceField(label=_("category"), choices=Category.choices)
    title = forms.CharField(label=_("title"), max_length=200)
    summary = forms.CharField(
        label=_("summary"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    place = forms.CharField(label=_("place"), max_length=200, required=False)
    occurred_at = forms.DateTimeField(
        label=_("time of the act"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    secret = forms.BooleanField(label=_("secret (涉密)"), required=False)


class TransitionForm(forms.Form):
    transition = forms.CharField(max_length=40)
    version = forms.IntegerField(min_value=1, max_value=2**31)
    reason = forms.CharField(
        label=_("reason"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    officers = forms.TypedMultipleChoiceField(
        label=_("officers taking part"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, officer_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officers"].choices = officer_choices


class PartyForm(forms.Form):
    role = forms.ChoiceField(label=_("role"), choices=PartyRole.choices)
    name = forms.CharField(label=_("name"), max_length=100)
    id_number = forms.CharField(label=_("resident ID number"), max_length=30, required=False)
    phone = forms.CharField(label=_("phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("e-mail"), max_length=200, required=False)


class AssignForm(forms.Form):
    user = forms.TypedChoiceField(label=_("officer"), coerce=int)
    role = forms.ChoiceField(
        label=_("role"), choices=AssignmentRole.choices, initial=AssignmentRole.ASSISTING
    )

    def __init__(self, *args, officer_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = officer_choices


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        label=_("why you need to read this case"),
        max_length=2000,
        help_text=_("Say specifically why; your supervisors are told at once and review it."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ContactForm(forms.Form):
    phone = forms.CharField(label=_("phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("e-mail"), max_length=200, required=False)


class ReviewForm(forms.Form):
    note = forms.CharField(
        label=_("what the review found"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
