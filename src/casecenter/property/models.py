"""Seized property (涉案财物): items, where they are kept, every move, appraisals, counts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Room(models.Model):
    """A storage room of a station or case-handling center (财物室, 毒品库 …)."""

    class Kind(models.TextChoices):
        PROPERTY_ROOM = "property_room", _("Property room")
        DRUG_STORE = "drug_store", _("Drug store")
        VEHICLE_YARD = "vehicle_yard", _("Vehicle yard")
        APPRAISAL = "appraisal", _("Appraisal room")

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="rooms"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["organisation", "code"]
        verbose_name = _("storage room")

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    """A shelf and bin in a room, with a label of its own to scan during a count."""

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="locations")
    shelf = models.CharField(_("shelf"), max_length=20)
    bin = models.CharField(_("bin"), max_length=20)
    code = models.CharField(_("location code"), max_length=40, unique=True)

    class Meta:
        ordering = ["room", "shelf", "bin"]
        constraints = [
            models.UniqueConstraint(fields=["room", "shelf", "bin"], name="location_unique")
        ]

    def __str__(self) -> str:
        return f"{self.room} {self.shelf}-{self.bin}"


class Category(models.TextChoices):
    CASH = "cash", _("Cash")
    PHONE = "phone", _("Phone")
    VEHICLE = "vehicle", _("Vehicle")
    DRUGS = "drugs", _("Drugs")
    WEAPON = "weapon", _("Weapon")
    DOCUMENT = "document", _("Document")
    OTHER = "other", _("Other")


class ItemState(models.TextChoices):
    SEIZED = "seized", _("Seized")
    IN_CUSTODY = "in_custody", _("Handed to the custodian")
    STORED = "stored", _("Stored")
    CHECKED_OUT = "checked_out", _("Checked out")
    TRANSFERRED = "transferred", _("Transferred")
    DISPOSED = "disposed", _("Disposed")


class Item(models.Model):
    """A seized item, numbered per organisation and year; its label carries the number.

    ``state``, ``holder`` and ``location`` say where it is now; every change of
    them is a ``CustodyEvent`` written by one service call under a row lock, so
    an item is never in two places and never checked out twice.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="items")
    owner = models.ForeignKey(
        "cases.Party", null=True, blank=True, on_delete=models.PROTECT, related_name="items"
    )
    number = models.CharField(_("item number"), max_length=40, unique=True)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    description = models.CharField(_("description"), max_length=500)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=20)
    seized_at = models.DateTimeField(_("seized at"))
    seized_place = models.CharField(_("seized where"), max_length=200)
    seized_by = models.JSONField(default=list)
    state = models.CharField(
        _("state"), max_length=20, choices=ItemState.choices, default=ItemState.SEIZED
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="items"
    )
    out_to = models.CharField(_("checked out to"), max_length=200, blank=True)
    out_purpose = models.CharField(max_length=20, blank=True)
    expected_return_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-seized_at", "-id"]
        indexes = [models.Index(fields=["state"]), models.Index(fields=["location", "state"])]
        verbose_name = _("seized item")

    def __str__(self) -> str:
        return self.number


class Photo(models.Model):
    """A photo of an item, stored under its SHA-256 (content-addressed, never overwritten)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="photos")
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to="property/photos/")
    content_type = models.CharField(max_length=50)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)


class CustodyEvent(models.Model):
    """One move in the chain of custody: who gave, who took, from where, to where, why."""

    class Kind(models.TextChoices):
        SEIZED = "seized", _("Seized")
        HANDED_OVER = "handed_over", _("Handed to the custodian")
        STORED = "stored", _("Stored")
        MOVED = "moved", _("Moved")
        CHECKED_OUT = "checked_out", _("Checked out")
        RETURNED = "returned", _("Returned")
        TRANSFERRED = "transferred", _("Transferred")
        DISPOSED = "disposed", _("Disposed")

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    giver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    counterparty = models.CharField(max_length=200, blank=True)
    from_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]


class Appraisal(models.Model):
    """A price or injury appraisal (物价鉴定、伤情鉴定) of an item, result attached."""

    class Kind(models.TextChoices):
        PRICE = "price", _("Price appraisal")
        INJURY = "injury", _("Injury appraisal")

    class State(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        DONE = "done", _("Result received")

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="appraisals")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="appraisals")
    state = models.CharField(max_length=10, choices=State.choices, default=State.REQUESTED)
    question = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    result = models.TextField(blank=True)
    value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)


class StockTake(models.Model):
    """A count of one room (盘点): labels scanned, compared with the records, signed off."""

    class State(models.TextChoices):
        OPEN = "open", _("Counting")
        SIGNED = "signed", _("Signed off")

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="stock_takes")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField()
    expected = models.JSONField(default=dict)  # item number -> location code, at the start
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict)  # missing / unexpected / misplaced, at sign-off
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]


class Scan(models.Model):
    """One label read during a count, as the scanner typed it, at the shelf it was found."""

    stock_take = models.ForeignKey(StockTake, on_delete=models.CASCADE, related_name="scans")
    code = models.CharField(max_length=100)
    location_code = models.CharField(max_length=40, blank=True)
    at = models.DateTimeField()
