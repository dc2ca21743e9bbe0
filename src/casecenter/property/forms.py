"""Forms of the property pages, and which moves an item page offers to whom.

The offer mirrors the services' rules (state machine, custodians, assigned
officers) so a page shows only what would be accepted; the services check
again, and a stale page's post gets their error, not a half-done move.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from casecenter.accounts.models import User
from casecenter.cases import access
from casecenter.cases.models import AssignmentRole, Case
from casecenter.property import selectors
from casecenter.property.models import Appraisal, Category, Item, ItemState, Location
from casecenter.web.forms import moment_field

S = ItemState

#: The words of the services' codes (``services.CHECKOUT_PURPOSES``, ``DISPOSAL_METHODS``).
PURPOSES = {
    "appraisal": _("appraisal"),
    "court": _("court hearing"),
    "investigation": _("investigation"),
    "return_to_owner": _("return to the owner"),
}
METHODS = {
    "returned_to_owner": _("returned to the owner"),
    "confiscated": _("confiscated"),
    "destroyed": _("destroyed"),
    "auctioned": _("auctioned"),
}


def _at() -> forms.DateTimeField:
    """When a move happened: empty is now, to the second (a minute-exact time from
    the browser's picker would sort the move before one made seconds earlier)."""
    return forms.DateTimeField(
        label=_("time (empty: now)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        required=False,
    )


def _people(users: Iterable[User]) -> list[tuple[int, str]]:
    return [(u.pk, f"{u} ({u.get_role_display()})") for u in users]


def _places(locations: Iterable[Location]) -> list[tuple[int, str]]:
    return [(loc.pk, f"{loc.room} · {loc.shelf}-{loc.bin} ({loc.code})") for loc in locations]


class RegisterItemForm(forms.Form):
    """A seizure, recorded by the case's officers (two take part)."""

    category = forms.ChoiceField(label=_("kind of property"), choices=Category.choices)
    description = forms.CharField(label=_("description"), max_length=500)
    quantity = forms.DecimalField(
        label=_("quantity or weight"), max_digits=14, decimal_places=3, min_value=0.001
    )
    unit = forms.CharField(label=_("unit of measure"), max_length=20, initial=_("piece"))
    seized_at = moment_field(_("seized at"))
    seized_place = forms.CharField(label=_("seized where"), max_length=200)
    owner = forms.TypedChoiceField(label=_("owner"), coerce=int, required=False, empty_value=None)
    officers = forms.TypedMultipleChoiceField(
        label=_("officers taking part (two at least)"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, case: Case, **kwargs):
        kwargs.setdefault("auto_id", "id_item_%s")
        super().__init__(*args, **kwargs)
        team = case.assignments.filter(
            ended_at__isnull=True, role__in=[AssignmentRole.LEAD, AssignmentRole.ASSISTING]
        ).select_related("user")
        parties = case.parties.select_related("person")
        self.fields["owner"].choices = [
            ("", _("unknown")),
            *[(p.pk, f"{p.person.name} ({p.get_role_display()})") for p in parties],
        ]
        self.fields["officers"].choices = [(a.user_id, str(a.user)) for a in team]
        self.fields["officers"].initial = [a.user_id for a in team]


class HandOverForm(forms.Form):
    receiver = forms.TypedChoiceField(label=_("property custodian"), coerce=int)
    at = _at()

    def __init__(self, *args, receivers: list[tuple[int, str]], receiving: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["receiver"].choices = receivers
        if receiving:  # the custodian records what they receive: no one to choose
            self.fields["receiver"].widget = forms.HiddenInput()
            self.fields["receiver"].initial = receivers[0][0]


class StoreForm(forms.Form):
    location = forms.TypedChoiceField(label=_("shelf"), coerce=int)
    at = _at()

    def __init__(self, *args, places: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].choices = places


class CheckOutForm(forms.Form):
    purpose = forms.ChoiceField(label=_("purpose"), choices=list(PURPOSES.items()))
    to = forms.CharField(label=_("taken by (person or unit)"), max_length=200)
    expected_return_at = forms.DateTimeField(
        label=_("to be returned by"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(label=_("reason"), max_length=2000, required=False)
    at = _at()


class TransferForm(forms.Form):
    organisation = forms.TypedChoiceField(label=_("to (procuratorate or court)"), coerce=int)
    receipt_number = forms.CharField(label=_("receipt number"), max_length=100)
    receiver_name = forms.CharField(label=_("received by"), max_length=100)
    at = _at()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [
            (o.pk, o.name) for o in selectors.transfer_organisations()
        ]


class DisposeForm(forms.Form):
    method = forms.ChoiceField(label=_("disposal"), choices=list(METHODS.items()))
    approver = forms.TypedChoiceField(label=_("approved by (legal affairs)"), coerce=int)
    reason = forms.CharField(
        label=_("grounds"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    at = _at()

    def __init__(self, *args, approvers: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approver"].choices = approvers


class AppraisalForm(forms.Form):
    kind = forms.ChoiceField(label=_("appraisal"), choices=Appraisal.Kind.choices)
    room = forms.TypedChoiceField(label=_("appraisal room"), coerce=int)
    question = forms.CharField(
        label=_("what is to be appraised"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, rooms: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].choices = rooms


class AppraisalResultForm(forms.Form):
    result = forms.CharField(
        label=_("opinion"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    value = forms.DecimalField(
        label=_("value (yuan, price appraisals)"),
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
    )


class PhotoForm(forms.Form):
    photo = forms.FileField(
        label=_("photo (JPEG, PNG, WebP or GIF, at most 10 MB)"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )


class SignOffForm(forms.Form):
    note = forms.CharField(
        label=_("note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


# --- what the item page offers -----------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """One move the viewer may make now: its URL slug, its title, its form."""

    name: str
    title: str
    form: forms.Form
    button: str


def move_form(
    name: str, user: User, item: Item, data: QueryDict | None = None, files: Any = None
) -> forms.Form | None:
    """The form of move ``name`` for this viewer and item, or ``None`` when the
    move is not theirs to make in the item's state."""
    case, state = item.case, item.state
    custodian = selectors.is_custodian(user, case)
    assigned = access.is_assigned(user, case)
    auto_id = f"id_{name}_%s"
    if name == "hand-over" and state == S.SEIZED:
        if item.holder_id == user.pk:
            custodians = _people(selectors.custodians_for(case))
            return HandOverForm(data, receivers=custodians, auto_id=auto_id)
        if custodian:
            me = [(user.pk, str(user))]
            return HandOverForm(data, receivers=me, receiving=True, auto_id=auto_id)
        return None
    shelving = {"store": (S.IN_CUSTODY,), "move": (S.STORED,), "return": (S.CHECKED_OUT,)}
    if name in shelving and custodian and state in shelving[name]:
        places = _places(selectors.storage_places(user, item))
        return StoreForm(data, places=places, auto_id=auto_id)
    if name == "check-out" and custodian and state == S.STORED:
        return CheckOutForm(data, auto_id=auto_id)
    if name in ("transfer", "dispose") and custodian and state in (S.STORED, S.IN_CUSTODY):
        if name == "transfer":
            return TransferForm(data, auto_id=auto_id)
        approvers = _people(selectors.approvers_for(case))
        return DisposeForm(data, approvers=approvers, auto_id=auto_id)
    if name == "appraisal" and assigned and state not in (S.TRANSFERRED, S.DISPOSED):
        rooms = [(r.pk, r.name) for r in selectors.appraisal_rooms(user)]
        return AppraisalForm(data, rooms=rooms, auto_id=auto_id)
    if name == "photo" and (assigned or custodian):
        return PhotoForm(data, files, auto_id=auto_id)
    return None


#: The moves of the chain of custody, in its order (appraisals and photos have cards of their own).
CUSTODY_MOVES = ("hand-over", "store", "move", "check-out", "return", "transfer", "dispose")


def moves_for(user: User, item: Item) -> list[Move]:
    """Every custody move the item page offers this viewer now."""
    titles = {
        "hand-over": (
            _("Hand over to the property custodian")
            if item.holder_id == user.pk
            else _("Receive from %(holder)s") % {"holder": item.holder}
        ),
        "store": _("Store on a shelf"),
        "move": _("Move to another shelf"),
        "check-out": _("Check out"),
        "return": _("Return to a shelf"),
        "transfer": _("Transfer to the procuratorate or court"),
        "dispose": _("Dispose (with approval)"),
    }
    buttons = {
        "hand-over": _("Record the hand-over"),
        "store": _("Store"),
        "move": _("Move"),
        "check-out": _("Record the check-out"),
        "return": _("Record the return"),
        "transfer": _("Record the transfer"),
        "dispose": _("Record the disposal"),
    }
    moves = []
    for name in CUSTODY_MOVES:
        form = move_form(name, user, item)
        if form is not None:
            moves.append(Move(name, str(titles[name]), form, str(buttons[name])))
    return moves


def may_record_result(user: User, item: Item) -> bool:
    return access.is_assigned(user, item.case) or selectors.is_custodian(user, item.case)
