"""Forms of the meetings pages. They check the shape of what is posted; the
services decide whether it is accepted (who may, the slot, conflicts)."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casecenter.meetings import selectors
from casecenter.meetings.models import Authority, Booking, Room
from casecenter.web.forms import moment_field


def _reason(label: str, required: bool) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=2000,
        required=required,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class LicenceForm(forms.Form):
    licence_number = forms.CharField(
        label=_("practising-licence number (17 digits)"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class RefuseForm(forms.Form):
    """A refusal: of a licence, or of a booking — reasons required."""

    reason = _reason(_("reasons"), required=True)


class ReasonForm(forms.Form):
    """A cancellation or a missed meeting: a reason if there is one."""

    reason = _reason(_("reason (optional)"), required=False)


class MomentForm(forms.Form):
    """When the meeting started or ended (now by default, or entered afterwards)."""

    at = moment_field(_("time"))


class DetaineeForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    id_number = forms.CharField(label=_("resident ID number"), max_length=30)
    handling_organisation = forms.CharField(label=_("handling organisation"), max_length=200)
    case_number = forms.CharField(label=_("case number"), max_length=60)
    received_at = moment_field(_("received into the centre"))


class BookingForm(forms.Form):
    """A slot asked for: the centre, the detainee (name and ID number), the day,
    start and end, and the authority of CPL Art. 39."""

    centre = forms.TypedChoiceField(label=_("detention centre"), coerce=int)
    name = forms.CharField(label=_("detainee's name"), max_length=100)
    id_number = forms.CharField(label=_("detainee's resident ID number"), max_length=30)
    day = forms.DateField(
        label=_("day of the meeting"), widget=forms.DateInput(attrs={"type": "date"})
    )
    start = forms.TimeField(
        label=_("meeting starts at"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    end = forms.TimeField(
        label=_("meeting ends at"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    authority = forms.ChoiceField(label=_("authority"), choices=Authority.choices)
    authority_reference = forms.CharField(label=_("letter reference"), max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["centre"].choices = [(c.pk, c.name) for c in selectors.centres()]

    def slot(self) -> tuple[datetime, datetime]:
        data = self.cleaned_data
        return (
            timezone.make_aware(datetime.combine(data["day"], data["start"])),
            timezone.make_aware(datetime.combine(data["day"], data["end"])),
        )


class ConfirmForm(forms.Form):
    """The room the meeting is arranged in: the centre's rooms in use, those free
    in the slot first."""

    room = forms.TypedChoiceField(label=_("meeting room"), coerce=int)

    def __init__(self, *args, booking: Booking, **kwargs):
        kwargs.setdefault("auto_id", "id_confirm_%s")
        super().__init__(*args, **kwargs)
        rooms = list(Room.objects.filter(centre_id=booking.centre_id, active=True))
        busy = set(
            Booking.objects.filter(
                room__in=rooms,
                state__in=["confirmed", "held"],
                starts_at__lt=booking.ends_at,
                ends_at__gt=booking.starts_at,
            ).values_list("room_id", flat=True)
        )
        rooms.sort(key=lambda r: (r.pk in busy, r.code))
        self.fields["room"].choices = [
            (
                r.pk,
                (_("%(room)s (taken)") if r.pk in busy else _("%(room)s (free)"))
                % {"room": r.name},
            )
            for r in rooms
        ]
