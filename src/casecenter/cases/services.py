"""Every write to cases: one function per thing a person does, one transaction each.

Each function checks the actor may do it, changes the rows, appends the case's
timeline event, the audit entry and the outbox event — all in one transaction,
so a refused or failed change leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from casecenter import law
from casecenter.accounts.models import POLICE_ROLES, OrganisationKind, Role, User
from casecenter.accounts.services import next_serial
from casecenter.audit.services import record
from casecenter.cases import access
from casecenter.cases.models import (
    Assignment,
    AssignmentRole,
    Case,
    CaseEvent,
    CaseKind,
    CaseState,
    Category,
    Party,
    PartyRole,
    Person,
)
from casecenter.cases.workflow import GUARDS, TRANSITIONS, applies
from casecenter.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from casecenter.outbox.services import emit
from casecenter.privacy.crypto import blind_index
from casecenter.supervision import services as clocks

CASE_ORG_KINDS = {OrganisationKind.POLICE_STATION, OrganisationKind.CASE_CENTER}
EDITABLE_FIELDS = {"title", "summary", "place", "category", "occurred_at"}
ID_CONTEXT = "cases.person.id_number"
KIND_CODES = {CaseKind.CRIMINAL: "XS", CaseKind.ADMINISTRATIVE: "XZ"}
#: The case's own clock, started at acceptance: decide on filing (criminal),
#: or handle the case (administrative). LAW.md: filing.review, admin_case.handle.
CASE_CLOCK = {CaseKind.CRIMINAL: "filing.review", CaseKind.ADMINISTRATIVE: "admin_case.handle"}
#: Transitions that do the duty of a case clock, and those that end it unneeded.
MEETS_CASE_CLOCK = {"file", "refuse_filing", "decide"}


def log_event(
    actor: User | None,
    case: Case,
    kind: str,
    *,
    reason: str = "",
    from_state: str = "",
    to_state: str = "",
    **data: Any,
) -> CaseEvent:
    """The timeline event, the audit entry and the outbox event of one change
    (inside the caller's transaction; other apps' services use it too)."""
    event = CaseEvent.objects.create(
        case=case,
        at=timezone.now(),
        actor=actor,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data,
    )
    record(
        actor,
        f"case.{kind}",
        case,
        reason=reason,
        data={"from": from_state, "to": to_state, **data},
    )
    emit(
        f"case.{kind}",
        case_id=case.pk,
        number=case.number,
        event_id=event.pk,
        from_state=from_state,
        to_state=to_state,
    )
    return event


def require_police(actor: User) -> None:
    if actor.role not in POLICE_ROLES or actor.organisation_id is None:
        raise PermissionDenied(
            "case.not_police", "只有公安民警可以办理案件。", "Only police officers handle cases."
        )


def _require_reader(actor: User, case: Case) -> None:
    if not access.may_read_personal(actor, case):
        raise PermissionDenied(
            "case.not_assigned",
            "您未被指派办理或监督该案件。",
            "You are not assigned to this case or to its supervision.",
        )


def _check_choice(value: str, choices: Any, code: str, what_zh: str, what_en: str) -> None:
    if value not in choices.values:
        raise InvalidInput(code, f"{what_zh}无效：{value}", f"Unknown {what_en}: {value}")


def _check_act_time(occurred_at: datetime | None, now: datetime) -> None:
    if occurred_at is None:
        return
    if occurred_at > now + timedelta(minutes=5):
        raise InvalidInput(
            "case.occurred_in_future", "案发时间不能晚于现在。", "The act cannot be in the future."
        )
    if occurred_at.year < 1900:
        raise InvalidInput(
            "case.occurred_too_early", "案发时间不能早于1900年。", "The act cannot be before 1900."
        )


@transaction.atomic
def accept_case(
    actor: User,
    *,
    kind: str,
    category: str,
    title: str,
    summary: str = "",
    place: str = "",
    occurred_at: datetime | None = None,
    secret: bool = False,
) -> Case:
    """Accept a case (受案) in the actor's organisation; the actor becomes its lead officer."""
    require_police(actor)
    if actor.organisation.kind not in CASE_ORG_KINDS:
        raise PermissionDenied(
            "case.wrong_organisation",
            "只有派出所或办案中心可以受案。",
            "Only a police station or a case-handling center accepts cases.",
        )
    _check_choice(kind, CaseKind, "case.kind", "案件类型", "case kind")
    _check_choice(category, Category, "case.category", "案由", "category")
    title = (title or "").strip()
    if not title:
        raise InvalidInput("case.title_missing", "请填写案件名称。", "The case needs a title.")
    now = timezone.now()
    _check_act_time(occurred_at, now)
    year = timezone.localtime(now).year
    serial = next_serial(actor.organisation_id, f"case.{kind}", year)
    case = Case.objects.create(
        organisation_id=actor.organisation_id,
        kind=kind,
        year=year,
        serial=serial,
        number=f"{actor.organisation.code.upper()}-{KIND_CODES[kind]}-{year}-{serial:05d}",
        category=category,
        title=title,
        summary=summary.strip(),
        place=place.strip(),
        occurred_at=occurred_at,
        secret=secret,
        accepted_at=now,
        created_by=actor,
    )
    Assignment.objects.create(case=case, user=actor, role=AssignmentRole.LEAD)
    log_event(actor, case, CaseEvent.Kind.ACCEPTED, to_state=CaseState.ACCEPTED, case_kind=kind)
    clocks.open_deadline(actor, CASE_CLOCK[kind], case, trigger_at=now)
    return case


def _locked(case: Case, expected_version: int) -> Case:
    current = (
        Case.objects.select_for_update(of=("self",)).select_related("organisation").get(pk=case.pk)
    )
    if current.version != expected_version:
        raise Conflict(
            "case.stale",
            "案件已被他人修改，请刷新后重试。",
            "The case was changed by someone else; reload it and try again.",
            current_version=current.version,
            your_version=expected_version,
        )
    return current


@transaction.atomic
def update_case(actor: User, case: Case, *, expected_version: int, **changes: Any) -> Case:
    """Edit a case's details; refused if the case changed since ``expected_version``."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput(
            "case.field",
            f"不能修改字段：{', '.join(sorted(unknown))}",
            f"These fields cannot be edited: {', '.join(sorted(unknown))}",
        )
    case = _locked(case, expected_version)
    _require_reader(actor, case)
    if case.state == CaseState.CLOSED:
        raise Conflict("case.closed", "案件已结案，不能修改。", "A closed case cannot be edited.")
    if "category" in changes:
        _check_choice(changes["category"], Category, "case.category", "案由", "category")
    if "occurred_at" in changes:
        _check_act_time(changes["occurred_at"], timezone.now())
    if "title" in changes and not str(changes["title"]).strip():
        raise InvalidInput("case.title_missing", "请填写案件名称。", "The case needs a title.")
    changed = {k: v for k, v in changes.items() if getattr(case, k) != v}
    if not changed:
        return case
    for field, value in changed.items():
        setattr(case, field, value)
    case.version += 1
    case.save(update_fields=[*changed, "version", "updated_at"])
    log_event(actor, case, CaseEvent.Kind.UPDATED, fields=sorted(changed))
    return case


def require_two_officers(case: Case, officers: Iterable[User]) -> list[User]:
    """F2.6: an enforcement action needs two or more officers, all working the case."""
    distinct = {o.pk: o for o in officers}
    if len(distinct) < 2:
        raise InvalidInput(
            "enforcement.two_officers",
            "执法活动须由两名以上民警进行。",
            "An enforcement action needs at least two officers.",
            basis="CPL Art. 118; MPS-C",
        )
    assigned = set(
        Assignment.objects.filter(
            case=case,
            user_id__in=distinct,
            ended_at__isnull=True,
            role__in=[AssignmentRole.LEAD, AssignmentRole.ASSISTING],
        ).values_list("user_id", flat=True)
    )
    outsiders = [str(o) for pk, o in distinct.items() if pk not in assigned or not o.is_police]
    if outsiders:
        raise InvalidInput(
            "enforcement.not_assigned",
            f"以下人员未被指派办理本案：{'、'.join(outsiders)}",
            f"Not assigned to this case: {', '.join(outsiders)}",
        )
    return list(distinct.values())


@transaction.atomic
def transition_case(
    actor: User,
    case: Case,
    name: str,
    *,
    expected_version: int,
    reason: str = "",
    officers: Iterable[User] = (),
) -> Case:
    """Move a case along its lifecycle (F2.3), if the actor's role allows it."""
    transition = TRANSITIONS.get(name)
    if transition is None:
        raise InvalidInput("case.transition", f"未知的操作：{name}", f"Unknown transition: {name}")
    case = _locked(case, expected_version)
    _require_reader(actor, case)
    if not applies(transition, case.kind, case.state):
        raise Conflict(
            "case.transition_not_allowed",
            f"案件当前状态为“{case.get_state_display()}”，不能{transition.label}。",
            f"A case in state '{case.state}' cannot do '{name}'.",
        )
    if actor.role not in transition.roles:
        raise PermissionDenied(
            "case.transition_role",
            f"您的角色不能执行：{transition.label}",
            f"Your role ({actor.role}) may not do '{name}'.",
        )
    reason = (reason or "").strip()
    if transition.needs_reason and not reason:
        raise InvalidInput("case.reason_missing", "此操作须说明理由。", "This step needs a reason.")
    for guard in GUARDS:
        guard(case, name)
    data: dict[str, Any] = {"transition": name}
    if transition.enforcement:
        data["officers"] = [o.pk for o in require_two_officers(case, officers)]
    from_state = case.state
    case.state = transition.target
    case.version += 1
    if case.state == CaseState.CLOSED:
        case.closed_at = timezone.now()
    case.save(update_fields=["state", "version", "closed_at", "updated_at"])
    log_event(
        actor,
        case,
        CaseEvent.Kind.TRANSITION,
        reason=reason,
        from_state=from_state,
        to_state=case.state,
        **data,
    )
    if name in MEETS_CASE_CLOCK:
        clocks.meet_deadlines(actor, case, CASE_CLOCK.values())
    elif case.state == CaseState.CLOSED:
        clocks.cancel_deadlines(actor, case, CASE_CLOCK.values(), reason=f"case {name}")
    return case


def record_person(
    *,
    name: str,
    id_number: str = "",
    phone: str = "",
    email: str = "",
    birth_date: Any = None,
    sex: str = "",
) -> Person:
    """A new ``Person`` row for one record (a party, an incident's reporter),
    made only of what the officer gives (inside the caller's transaction).

    Never looks up, shows or changes another record's row: the ID number is
    checked, normalised (15 → 18 digits) and indexed, and birth date and sex
    are derived from it.
    """
    name = (name or "").strip()
    if not name:
        raise InvalidInput("person.name_missing", "请填写姓名。", "The person needs a name.")
    phone, email = (phone or "").strip(), _checked_email(email)
    if not (id_number or "").strip():
        return Person.objects.create(
            name=name, phone=phone, email=email, birth_date=birth_date, sex=sex
        )
    parsed = _parsed_id(id_number)
    return Person.objects.create(
        name=name,
        id_number=parsed.number,
        id_number_index=blind_index(parsed.number, context=ID_CONTEXT),
        id_number_masked=law.mask_id_number(parsed.number),
        birth_date=parsed.birth_date,
        sex=parsed.sex,
        phone=phone,
        email=email,
    )


def _parsed_id(id_number: str) -> law.IdNumber:
    try:
        return law.parse_id_number(id_number, today=timezone.localdate())
    except law.LawError as exc:
        raise InvalidInput(exc.code, exc.message_zh, exc.message_en) from exc


def _checked_email(email: str) -> str:
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidInput(
                "person.email", "电子邮箱格式不正确。", "The e-mail address is not valid."
            ) from None
    return email


@transaction.atomic
def add_party(
    actor: User,
    case: Case,
    *,
    role: str,
    name: str,
    id_number: str = "",
    phone: str = "",
    email: str = "",
) -> Party:
    """Add a person to a case in a role; the minor flag comes from age at the act."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    _require_reader(actor, case)
    _check_choice(role, PartyRole, "party.role", "人员角色", "party role")
    person = record_person(name=name, id_number=id_number, phone=phone, email=email)
    index = person.id_number_index
    if index and Party.objects.filter(case=case, person__id_number_index=index, role=role).exists():
        # only this case's own parties are compared: nothing of another record shows
        raise Conflict(
            "party.duplicate",
            "该人员已以此身份在案。",
            "This person is already in the case in this role.",
        )
    act_date = timezone.localtime(case.occurred_at or case.accepted_at).date()
    born = person.birth_date
    known = born is not None and born <= act_date
    party = Party.objects.create(
        case=case,
        person=person,
        role=role,
        age_at_act=law.criminal_age_on(born, act_date) if known else None,
        minor_at_act=known and law.is_minor_at(born, act_date),
        responsibility=law.responsibility_band(born, act_date) if known else "",
    )
    Case.objects.filter(pk=case.pk).update(version=F("version") + 1)
    log_event(
        actor,
        case,
        CaseEvent.Kind.PARTY_ADDED,
        party_id=party.pk,
        person_id=person.pk,
        role=role,
        minor=party.minor_at_act,
    )
    return party


@transaction.atomic
def change_party_contact(actor: User, party: Party, *, phone: str, email: str) -> Party:
    """Change the phone and e-mail of a case's party: the contact its
    notifications (portal SMS, e-mail) and its public page's second factor use.

    Only those who may read the case's personal data change it; the change is
    this case's alone (each record keeps its own ``Person`` row) and is on the
    audit log and the case's timeline, which name the fields, never the values.
    """
    case = Case.objects.select_for_update().get(pk=party.case_id)
    _require_reader(actor, case)
    person = Person.objects.select_for_update().get(pk=party.person_id)
    phone, email = (phone or "").strip(), _checked_email(email)
    if len(phone) > 40:
        raise InvalidInput("person.phone", "电话号码过长。", "The phone number is too long.")
    changed = [f for f, v in (("phone", phone), ("email", email)) if getattr(person, f) != v]
    if not changed:
        return party
    person.phone, person.email = phone, email
    person.save(update_fields=changed)
    Case.objects.filter(pk=case.pk).update(version=F("version") + 1)
    log_event(actor, case, CaseEvent.Kind.UPDATED, party_id=party.pk, contact=changed)
    return Party.objects.select_related("person").get(pk=party.pk)


@transaction.atomic
def assign_officer(actor: User, case: Case, officer: User, role: str) -> Assignment:
    """Assign an officer (or a supervisor) to a case.

    The lead officer adds assisting officers and supervisors (e.g. the legal-affairs
    officer who must review a secret case); the case-management group of the
    station assigns anyone, including a new lead. Officers come from the case's
    organisation or the one above it.
    """
    case = (
        Case.objects.select_for_update(of=("self",)).select_related("organisation").get(pk=case.pk)
    )
    _check_choice(role, AssignmentRole, "assignment.role", "指派角色", "assignment role")
    if not access.may_assign(actor, case, role):
        raise PermissionDenied(
            "assignment.forbidden",
            "只有主办民警（添加协办、监督人）或案管组可以指派。",
            "Only the lead officer (assisting officers, supervisors) or the case-management "
            "group may assign.",
        )
    if not officer.is_police or officer.organisation_id not in (
        case.organisation_id,
        case.organisation.parent_id,
    ):
        raise InvalidInput(
            "assignment.outsider",
            "只能指派本单位民警。",
            "Only officers of the case's organisation can be assigned.",
        )
    if Assignment.objects.filter(case=case, user=officer, ended_at__isnull=True).exists():
        raise Conflict(
            "assignment.duplicate", "该民警已被指派。", "This officer is already assigned."
        )
    assignment = Assignment.objects.create(case=case, user=officer, role=role)
    Case.objects.filter(pk=case.pk).update(version=F("version") + 1)
    log_event(
        actor, case, CaseEvent.Kind.ASSIGNED, user_id=officer.pk, user=str(officer), role=role
    )
    return assignment


@transaction.atomic
def release_officer(actor: User, case: Case, officer: User, *, reason: str = "") -> Assignment:
    """End an officer's assignment. The lead officer can only be replaced, not released."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not (actor.role == Role.CASE_MANAGEMENT and access.is_supervising(actor, case)):
        raise PermissionDenied(
            "assignment.forbidden",
            "只有案管组可以解除指派。",
            "Only the case-management group may release officers.",
        )
    assignment = Assignment.objects.filter(case=case, user=officer, ended_at__isnull=True).first()
    if assignment is None:
        raise NotFound("assignment.missing", "该民警未被指派。", "This officer is not assigned.")
    if assignment.role == AssignmentRole.LEAD:
        raise Conflict(
            "assignment.lead", "不能解除主办民警。", "The lead officer cannot be released."
        )
    assignment.ended_at = timezone.now()
    assignment.save(update_fields=["ended_at"])
    Case.objects.filter(pk=case.pk).update(version=F("version") + 1)
    log_event(
        actor, case, CaseEvent.Kind.UNASSIGNED, reason=reason, user_id=officer.pk, user=str(officer)
    )
    return assignment
