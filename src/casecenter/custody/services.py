"""Writes of the custody area: entry and exit registration, the interrogation desk.

Device events are applied by ``custody.tracking.apply_events``; this module holds
what people do at the registration desk and the interrogation desk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from casecenter import images
from casecenter.accounts.models import OrganisationKind, Role, User
from casecenter.audit.services import record
from casecenter.cases import access
from casecenter.cases.models import Case, CaseEvent, Party, PartyRole
from casecenter.cases.services import log_event, require_two_officers
from casecenter.custody import tracking
from casecenter.custody.models import (
    INTERROGATION_ZONES,
    Belonging,
    Device,
    Presence,
    Session,
    Stay,
    Zone,
)
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.measures.models import Measure
from casecenter.moments import past_moment
from casecenter.outbox.services import emit

#: who registers people in and out of the area
DESK_ROLES = frozenset({Role.CUSTODY_STAFF, Role.CASE_OFFICER, Role.COMMANDER})
#: roles of the people who come into the area in custody
HELD_ROLES = frozenset({PartyRole.SUSPECT})


def _require_desk(actor: User, center) -> None:
    if actor.role not in DESK_ROLES:
        raise PermissionDenied(
            "custody.not_desk",
            "只有办案区值班民警或办案民警可以办理入区、出区登记。",
            "Only custody staff or case officers register people in and out.",
        )
    if center.kind != OrganisationKind.CASE_CENTER:
        raise InvalidInput(
            "custody.not_center", "只能在执法办案管理中心登记入区。", "Only a center has an area."
        )


def _require_police(actor: User) -> None:
    """Interrogation sessions are the police's: opened and closed by an officer,
    the desk or the commander, never by the medical desk who also sees the stay."""
    if not actor.is_police:
        raise PermissionDenied(
            "session.not_police",
            "只有民警可以开始或结束讯问会话。",
            "Only police officers open or close a session.",
        )


def _check_case(actor: User, case: Case) -> None:
    if actor.role == Role.CUSTODY_STAFF:
        return  # the desk registers whoever the officers bring
    if not access.is_assigned(actor, case):
        raise PermissionDenied(
            "custody.not_assigned",
            "您未被指派办理该案件。",
            "You are not assigned to this case.",
        )


@transaction.atomic
def register_entry(
    actor: User,
    *,
    center,
    party: Party,
    wristband: Device,
    searched_by: User,
    identity_checked: bool,
    health: str = "",
    injuries: bool = False,
    belongings: Sequence[tuple[str, int]] = (),
    measure: Measure | None = None,
    at: datetime | None = None,
) -> Stay:
    """入区登记: identity checked against the case's person, safety check by an
    officer of the same sex, belongings, health, a wristband bound.

    One open stay per person and per wristband (also enforced by the database).
    """
    _require_desk(actor, center)
    case = Case.objects.select_for_update(of=("self",)).get(pk=party.case_id)
    _check_case(actor, case)
    at = past_moment(at, code="custody", what_zh="入区时间", what_en="entry")
    if party.role not in HELD_ROLES:
        raise InvalidInput(
            "custody.party_role",
            "只有犯罪嫌疑人、违法行为人入区登记佩戴手环。",
            "Only suspects are registered into the custody area.",
        )
    if not identity_checked:
        raise InvalidInput(
            "custody.identity",
            "请先核对身份（证件与案件人员信息一致）。",
            "Check the person's identity against the case first.",
        )
    sex = party.person.sex
    if sex and searched_by.sex and sex != searched_by.sex:
        raise InvalidInput(
            "custody.search_sex",
            "人身安全检查须由同性别民警进行。",
            "The safety check is done by an officer of the same sex.",
        )
    if searched_by.role not in DESK_ROLES:
        raise InvalidInput(
            "custody.search_officer", "安全检查须由民警进行。", "An officer does the safety check."
        )
    device = Device.objects.select_for_update(of=("self",)).get(pk=wristband.pk)
    if device.kind != Device.Kind.WRISTBAND or device.center_id != center.pk or not device.active:
        raise InvalidInput(
            "custody.wristband", "该手环不可用。", "This wristband is not available here."
        )
    if measure is not None and (measure.case_id != case.pk or measure.party_id != party.pk):
        raise InvalidInput(
            "custody.measure",
            "强制措施不属于该人员。",
            "The measure is not this person's.",
        )
    # the same person is the same ID number's blind index (each record has its own row)
    same = Q(party__person=party.person_id)
    if party.person.id_number_index:
        same |= Q(party__person__id_number_index=party.person.id_number_index)
    if Stay.objects.filter(same, exited_at__isnull=True).exists():
        raise Conflict("custody.already_in", "该人员已在办案区内。", "This person is already in.")
    if Stay.objects.filter(wristband=device, exited_at__isnull=True).exists():
        raise Conflict(
            "custody.wristband_bound", "该手环已绑定他人。", "This wristband is already worn."
        )
    try:
        with transaction.atomic():
            stay = Stay.objects.create(
                center=center,
                case=case,
                party=party,
                measure=measure,
                wristband=device,
                entered_at=at,
                registered_by=actor,
                searched_by=searched_by,
                identity_checked=True,
                health=(health or "").strip()[:2000],
                injuries=injuries,
            )
    except IntegrityError:
        raise Conflict(
            "custody.already_in", "该人员已在办案区内。", "This person is already in."
        ) from None
    Belonging.objects.bulk_create(
        [
            Belonging(stay=stay, description=d.strip()[:200], quantity=q)
            for d, q in belongings
            if d.strip()
        ]
    )
    record(
        actor,
        "custody.entered",
        stay,
        data={"case_id": case.pk, "party_id": party.pk, "wristband": device.code},
    )
    log_event(actor, case, CaseEvent.Kind.CUSTODY, stay_id=stay.pk, moment="entered")
    emit("custody.entered", stay_id=stay.pk, center=center.code)
    return stay


@transaction.atomic
def photograph_belonging(actor: User, belonging: Belonging, uploaded_file) -> Belonging:
    """A photo of something handed in at entry (an image of at most 10 MB, kept under
    its SHA-256); taken while the person is in the area, never replaced."""
    belonging = (
        Belonging.objects.select_for_update(of=("self",))
        .select_related("stay__center", "stay__case")
        .get(pk=belonging.pk)
    )
    stay = belonging.stay
    _require_desk(actor, stay.center)
    _check_case(actor, stay.case)
    if stay.exited_at is not None or belonging.photo_sha256:
        raise Conflict(
            "belonging.photo",
            "物品照片只能在入区期间拍摄一次。",
            "A belonging is photographed once, while the person is in the area.",
        )
    data, digest, content_type, suffix = images.read_checked(uploaded_file)
    stored = images.store("custody/belongings", data, digest, suffix, content_type)
    belonging.photo_sha256, belonging.photo, belonging.photo_type = (
        digest,
        stored.name,
        content_type,
    )
    belonging.save(update_fields=["photo_sha256", "photo", "photo_type"])
    record(
        actor,
        "custody.belonging_photographed",
        stay,
        data={"belonging": belonging.pk, "sha256": digest, "bytes": stored.size},
    )
    return belonging


@transaction.atomic
def register_exit(actor: User, stay: Stay, *, reason: str, at: datetime | None = None) -> Stay:
    """出区登记: belongings returned, wristband released, presence closed."""
    stay = (
        Stay.objects.select_for_update(of=("self",))
        .select_related("center", "case")
        .get(pk=stay.pk)
    )
    _require_desk(actor, stay.center)
    _check_case(actor, stay.case)
    if stay.exited_at is not None:
        raise Conflict("custody.already_out", "该人员已出区。", "This person has already left.")
    at = at or timezone.now()
    if at < stay.entered_at or at > timezone.now():
        raise InvalidInput(
            "custody.exit_time",
            "出区时间须在入区之后、现在之前。",
            "Exit is between entry and now.",
        )
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("custody.exit_reason", "请填写出区去向。", "Say where the person goes.")
    stay.exited_at, stay.exited_by, stay.exit_reason = at, actor, reason[:200]
    stay.save(update_fields=["exited_at", "exited_by", "exit_reason"])
    stay.belongings.filter(returned_at__isnull=True).update(returned_at=at)
    tracking.end_stay(stay)
    record(actor, "custody.exited", stay, reason=reason, data={"case_id": stay.case_id})
    log_event(actor, stay.case, CaseEvent.Kind.CUSTODY, stay_id=stay.pk, moment="exited")
    emit("custody.exited", stay_id=stay.pk, center=stay.center.code)
    return stay


@transaction.atomic
def open_session(
    actor: User,
    stay: Stay,
    *,
    zone: Zone,
    officers: Iterable[User],
    kind: str = Session.Kind.INTERROGATION,
    parent: Session | None = None,
    external_ref: str = "",
) -> Session:
    """The one-button desk: open an interrogation session in ``zone`` (recording
    started there), or a linked sub-session (remote arraignment, evidence display,
    command, meeting) of an open one."""
    _require_police(actor)
    stay = (
        Stay.objects.select_for_update(of=("self",)).select_related("case", "party").get(pk=stay.pk)
    )
    if stay.exited_at is not None:
        raise Conflict("session.not_in", "该人员已出区。", "The person has left the area.")
    if kind not in Session.Kind.values:
        raise InvalidInput("session.kind", "未知的讯问类型。", "Unknown session kind.")
    if zone.center_id != stay.center_id:
        raise InvalidInput("session.zone", "房间不在本中心。", "The room is not in this center.")
    officers = list(officers)
    if parent is None:
        if kind != Session.Kind.INTERROGATION:
            raise InvalidInput(
                "session.parent",
                "远程子会话须挂在讯问之下。",
                "A sub-session belongs to an interrogation.",
            )
        if zone.kind not in INTERROGATION_ZONES:
            raise InvalidInput(
                "session.room",
                "讯问只能在讯问室（或未成年人询问室）进行。",
                "Interrogation takes place only in an interrogation room (or the juvenile room).",
            )
        if stay.party.minor_at_act and zone.kind != "juvenile":
            raise InvalidInput(
                "session.juvenile",
                "未成年人应在未成年人询问室讯问。",
                "A minor is questioned in the juvenile room.",
            )
        require_two_officers(stay.case, officers)
    elif parent.stay_id != stay.pk:
        raise InvalidInput(
            "session.parent", "上级会话不属于该人员。", "The parent session is another stay's."
        )
    elif parent.ended_at is not None:
        raise Conflict("session.parent", "上级会话已结束。", "The parent session is not open.")
    session = Session.objects.create(
        stay=stay,
        zone=zone,
        parent=parent,
        kind=kind,
        started_at=timezone.now(),
        opened_by=actor,
        external_ref=external_ref[:100],
    )
    session.officers.set(officers or [actor])
    cameras = list(zone.cameras.all())
    for camera in cameras:
        if not camera.wanted:
            tracking.command_camera(camera, "record")
    record(actor, "custody.session_opened", session, data={"kind": kind, "zone": zone.code})
    log_event(actor, stay.case, CaseEvent.Kind.CUSTODY, session_id=session.pk, moment=kind)
    emit("custody.session_opened", session_id=session.pk)
    return session


@transaction.atomic
def close_session(actor: User, session: Session) -> Session:
    _require_police(actor)
    session = Session.objects.select_for_update(of=("self",)).get(pk=session.pk)
    if session.ended_at is not None:
        raise Conflict("session.closed", "该会话已结束。", "The session is already closed.")
    now = timezone.now()
    Session.objects.filter(parent=session, ended_at__isnull=True).update(ended_at=now)
    session.ended_at = now
    session.save(update_fields=["ended_at"])
    record(actor, "custody.session_closed", session)
    return session


def session_mismatches(session: Session) -> list[str]:
    """F6.4: the session's times against the person's presence in its room."""
    problems = []
    end = session.ended_at or timezone.now()
    presences = Presence.objects.filter(stay=session.stay, zone=session.zone)
    inside = [
        p
        for p in presences
        if p.entered_at <= session.started_at and (p.left_at is None or p.left_at >= end)
    ]
    if not inside:
        problems.append("presence")
    return problems
