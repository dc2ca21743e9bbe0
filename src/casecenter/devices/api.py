"""API: device events in, camera commands out, for the embedded default (no broker).

Mounted at ``/api/devices``. Bearer token only (a gateway is no browser): the
token of a custody-staff account of the center, or of an administrator. The
contract is in ``docs/device-protocol.md``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from casecenter.api import BearerAuth
from casecenter.custody.models import CameraCommand
from casecenter.devices import services
from casecenter.schema import Text

router = Router(tags=["devices"], auth=BearerAuth())
MAX_EVENTS = 1000


class EventsIn(Schema):
    center: Text(30, min_length=1)
    #: each: {"kind", "device", "seq", "ts", ...the kind's fields}; checked one by one
    events: Annotated[list[Any], Field(max_length=MAX_EVENTS)]


class CommandOut(Schema):
    id: str
    camera: str
    action: str
    audio: bool
    ts: datetime


class RejectedOut(Schema):
    index: int
    code: str
    message: str


class PostedOut(Schema):
    new: int
    duplicates: int
    unknown: int = Field(
        description="refused for naming an unknown center, device or zone, or a kind its "
        "device does not send (also listed in rejected)"
    )
    clock_ahead: int = Field(
        description="applied at their arrival time: the device's clock was too far ahead"
    )
    rejected: list[RejectedOut]
    commands: list[CommandOut]


class CommandsOut(Schema):
    commands: list[CommandOut]


class CenterQuery(Schema):
    center: Text(30, min_length=1)


def _command(command: CameraCommand) -> dict[str, Any]:
    return {
        "id": command.command_id,
        "camera": command.camera.code,
        "action": command.action,
        "audio": command.audio,
        "ts": command.created_at,
    }


@router.post("/events", response=PostedOut)
def post_events(request: HttpRequest, payload: EventsIn):
    """Take a gateway's device events (at most 1,000 a request); answer what was
    applied, what was refused and why, and the center's open camera commands."""
    posted = services.post_events(request.auth, payload.center, payload.events)
    return {
        "new": posted.new,
        "duplicates": posted.duplicates,
        "unknown": posted.unknown,
        "clock_ahead": posted.clock_ahead,
        "rejected": posted.rejected,
        "commands": [_command(c) for c in posted.commands],
    }


@router.get("/commands", response=CommandsOut)
def commands(request: HttpRequest, query: Query[CenterQuery]):
    """The center's camera commands not yet confirmed (cameras that poll)."""
    center = services.gateway_center(request.auth, query.center)
    return {"commands": [_command(c) for c in services.open_commands(center)]}
