"""The world the role × endpoint matrix runs in: the demo's organisations, people
in every role and records of every kind (``casecenter.demo.data.load``), built
once per test module inside a transaction rolled back at its end, and the
objects each route's path is filled with.

Roles are the matrix's columns. Two of them depend on the object a route is
about: ``officer_on_case`` is the lead officer of the object's case, and
``officer_off_case`` a case officer of the same station not assigned to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model

from casecenter.accounts.models import Role, User

ROLES = (
    "officer_on_case",
    "officer_off_case",
    "case_management",
    "legal_affairs",
    "custody_staff",
    "medical",
    "commander",
    "specialist",
    "prosecutor",
    "judge",
    "duty_lawyer",
    "defence_lawyer",
    "detention_staff",
    "admin",
    "anonymous",
)

#: the demo's user of each fixed role
DEMO_USERS = {
    "case_management": "chenjing",
    "legal_affairs": "sunli",
    "custody_staff": "zhaogang",
    "medical": "wangyi",
    "commander": "maqun",
    "specialist": "tianye",
    "prosecutor": "zhoujian",
    "judge": "wufang",
    "duty_lawyer": "zhengli",
    "defence_lawyer": "chenming",
    "detention_staff": "sunhao",
    "admin": "admin",
}


@dataclass
class World:
    users: dict[str, User]
    objects: dict[str, Model | str | int] = field(default_factory=dict)
    #: a logged-in test client of each user, made with the world (their sessions
    #: live as long as the world's transaction); ``None``: the anonymous one
    clients: dict[int | None, Any] = field(default_factory=dict)

    def client(self, user: User | None):  # noqa: ANN201 - a django.test.Client
        from django.test import Client

        key = None if user is None else user.pk
        if key not in self.clients:
            client = Client(raise_request_exception=True)
            if user is not None:
                client.force_login(user)
                _verified(client, user)
            self.clients[key] = client
        return self.clients[key]

    def case_of(self, obj: Any):  # noqa: ANN201 - a Case or None
        """The police case an object belongs to, if any."""
        from casecenter.cases.models import Case

        if isinstance(obj, Case):
            return obj
        for path in ("case", "dossier.case", "receipt.case", "stay.case", "item.case"):
            found: Any = obj
            for part in path.split("."):
                found = getattr(found, part, None)
            if isinstance(found, Case):
                return found
        return None

    def user(self, role: str, obj: Any = None) -> User | None:
        """The user playing ``role`` for a route about ``obj`` (None: anonymous)."""
        from casecenter.cases.models import Assignment, AssignmentRole

        if role == "anonymous":
            return None
        if role in DEMO_USERS:
            return self.users[DEMO_USERS[role]]
        case = self.case_of(obj) or self.objects["case"]
        if role == "officer_on_case":
            lead = Assignment.objects.filter(
                case=case, role=AssignmentRole.LEAD, ended_at__isnull=True
            ).first()
            return lead.user
        on_it = Assignment.objects.filter(case=case, ended_at__isnull=True).values("user_id")
        return (
            User.objects.filter(organisation_id=case.organisation_id, role=Role.CASE_OFFICER)
            .exclude(pk__in=on_it)
            .order_by("username")
            .first()
        )


def _verified(client, user: User) -> None:  # noqa: ANN001
    """A complete login: the session also passed the second factor where the user
    has one (the demo enrols its administrator, legal-affairs officer and
    commander), as ``tests/conftest.py``'s ``force_login`` does for function-scoped
    clients (these are made once for the module, before that patch applies)."""
    from django.apps import apps

    if not apps.is_installed("django_otp.plugins.otp_totp"):  # pragma: no cover - before MFA
        return
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None and not (user.is_staff or user.is_superuser):
        return
    device = device or TOTPDevice.objects.create(user=user, name="matrix", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def build() -> World:
    """The demo's records, and one object of each kind for the routes' paths:
    of a non-secret case of the 中关村 station where the kind belongs to a case."""
    from casecenter.assistance.models import AssistanceRequest
    from casecenter.cases.models import Case, Party
    from casecenter.custody.models import Belonging, Session, Stay
    from casecenter.demo.data import load
    from casecenter.dossiers.models import Document, Loan
    from casecenter.exchange.models import Matter, Package
    from casecenter.fasttrack.models import FastTrack, Stage
    from casecenter.incidents.models import Incident
    from casecenter.measures.models import Measure
    from casecenter.meetings.models import Booking, Detainee, Lawyer
    from casecenter.portal.models import Message, Receipt
    from casecenter.property.models import Appraisal, Item, Location, Photo, Room, StockTake
    from casecenter.supervision.models import Alert, Deadline, Rule

    users = load(40)
    station = {"case__organisation__code": "zgc", "case__secret": False}
    world = World(users=users)
    case = (
        Case.objects.filter(organisation__code="zgc", secret=False, parties__isnull=False)
        .order_by("pk")
        .first()
    )
    items = Item.objects.filter(**station).order_by("pk")
    room = Room.objects.filter(kind=Room.Kind.PROPERTY_ROOM).order_by("pk").first()
    count = StockTake.objects.order_by("pk").first()
    if count is None:
        from casecenter.property import services

        count = services.start_count(users["zhaogang"], room)
    stay = Stay.objects.filter(**station).order_by("pk").first()
    package = Package.objects.filter(case__isnull=False, matter__isnull=False).order_by("pk")
    world.objects = {
        "case": case,
        "secret_case": Case.objects.filter(secret=True).order_by("pk").first(),
        "other_case": Case.objects.filter(organisation__code="xyl", secret=False)
        .order_by("pk")
        .first(),
        "party": Party.objects.filter(case=case).order_by("pk").first(),
        "incident": Incident.objects.filter(organisation__code="zgc").order_by("pk").first(),
        "api_token": None,
        "assignee": None,
        "token": "not-a-portal-token",
        "measure": Measure.objects.filter(**station).order_by("pk").first(),
        "alert": Alert.objects.filter(**station).order_by("pk").first(),
        "deadline": Deadline.objects.filter(**station).order_by("pk").first(),
        "rule": Rule.objects.order_by("code").first().code,
        "item": items.first(),
        "appraisal": Appraisal.objects.filter(item__case__secret=False).order_by("pk").first(),
        "photo": Photo.objects.filter(item__case__secret=False).order_by("pk").first(),
        "room": room,
        "location": Location.objects.filter(room=room).order_by("pk").first(),
        "count": count,
        "receipt": Receipt.objects.filter(**station).order_by("pk").first(),
        "message": Message.objects.filter(**station).order_by("pk").first(),
        "center": stay.center.code,
        "stay": stay,
        "session": Session.objects.filter(stay__case__secret=False).order_by("pk").first(),
        "belonging": Belonging.objects.filter(stay__case__secret=False).order_by("pk").first(),
        "document": Document.objects.filter(
            dossier__case__organisation__code="zgc", dossier__case__secret=False
        )
        .order_by("pk")
        .first(),
        "loan": Loan.objects.order_by("pk").first(),
        "package": package.first(),
        "matter": Matter.objects.order_by("pk").first(),
        "track": FastTrack.objects.order_by("pk").first(),
        "stage": Stage.objects.order_by("pk").first(),
        "lawyer": Lawyer.objects.order_by("pk").first(),
        "detainee": Detainee.objects.order_by("pk").first(),
        "booking": Booking.objects.order_by("pk").first(),
        "assistance": AssistanceRequest.objects.filter(**station).order_by("pk").first()
        or AssistanceRequest.objects.order_by("pk").first(),
    }
    _complete(world)
    for user in User.objects.filter(is_active=True):
        world.client(user)
    world.client(None)
    missing = [k for k, v in world.objects.items() if v is None]
    assert not missing, f"the demo has no {missing}"
    return world


def _complete(world: World) -> None:
    """What the demo may lack: a photo of the item, an interrogation session; an
    API token of the case's lead; the assisting officer of the case."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from casecenter.accounts.services import issue_api_token
    from casecenter.cases.models import Assignment, AssignmentRole
    from casecenter.custody import services as custody
    from casecenter.custody.models import Zone
    from casecenter.property import services as property_

    case = world.objects["case"]
    lead = world.user("officer_on_case", case)
    world.objects["api_token"] = issue_api_token(lead, name="matrix")[0]
    world.objects["assignee"] = (
        Assignment.objects.filter(case=case, ended_at__isnull=True)
        .exclude(role=AssignmentRole.LEAD)
        .order_by("pk")
        .first()
        .user
    )
    # a break-glass read of a case of the other station by one of its officers
    # not on it (the 中关村 case's readers stay as they are)
    world.objects["grant"] = _break_glass_elsewhere(world)
    if world.objects["photo"] is None:
        item = world.objects["item"]
        upload = SimpleUploadedFile("p.gif", _GIF, content_type="image/gif")
        world.objects["photo"] = property_.add_photo(
            world.user("officer_on_case", item), item, upload
        )
    if world.objects["session"] is None:
        stay = world.objects["stay"]
        officers = [
            a.user for a in Assignment.objects.filter(case=stay.case, ended_at__isnull=True)
        ]
        zone = Zone.objects.filter(center=stay.center, kind="interrogation").order_by("pk").first()
        world.objects["session"] = custody.open_session(
            officers[0], stay, zone=zone, officers=officers[:2]
        )
    # the audit log's entries so far get their places and a signed checkpoint
    from casecenter.audit.sequencer import integrate_all

    integrate_all()


def _break_glass_elsewhere(world: World):  # noqa: ANN202
    """A break-glass grant to an officer on a case none of the world's objects
    belongs to (so no cell of the matrix reads under it)."""
    from casecenter.cases.breakglass import break_glass
    from casecenter.cases.models import Assignment, Case

    used = {getattr(world.case_of(o), "pk", None) for o in world.objects.values()}
    for case in Case.objects.filter(secret=False).exclude(pk__in=used).order_by("pk"):
        on_it = Assignment.objects.filter(case=case, ended_at__isnull=True).values("user_id")
        reader = (
            User.objects.filter(organisation_id=case.organisation_id, role=Role.CASE_OFFICER)
            .exclude(pk__in=on_it)
            .order_by("username")
            .first()
        )
        if reader is not None:
            return break_glass(reader, case, reason="复核同类案件的处理结果，需要查看本案")
    return None


#: the smallest GIF: one transparent pixel
_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00"
    b"\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
