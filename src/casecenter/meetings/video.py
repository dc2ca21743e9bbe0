"""The video link of a remote meeting: an adapter with two calls.

``open_session`` is asked, when the centre starts a confirmed meeting, for a
session between the lawyer and the centre's room, **with recording off**: a
lawyer's meeting is not monitored (CPL Art. 39), so the session a backend
returns must say it does not record, or the meeting does not start. It hands
back one join link for the lawyer and one for the centre's terminal.
``close_session`` ends it when the meeting ends.

The default ``LoggingBackend`` only logs (logger ``casecenter.meetings.video``,
no personal data) and returns ``casecenter-video://…`` links with unguessable
tokens; a deployment names its own adapter (a class with the same two methods,
e.g. one for the provincial video-meeting platform) in
``CASECENTER_VIDEO_BACKEND``.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("casecenter.meetings.video")

DEFAULT_BACKEND = "casecenter.meetings.video.LoggingBackend"


@dataclass(frozen=True)
class Session:
    """An open video session and what the backend says about it."""

    session_id: str
    lawyer_link: str
    centre_link: str
    #: whether the video system records or relays the meeting to a third party
    recording: bool


@dataclass(frozen=True)
class SessionRequest:
    """What a backend needs to open a session: no names, no ID numbers."""

    reference: str  # the booking number
    terminal: str  # the centre's room terminal
    starts_at: datetime
    ends_at: datetime
    recording: bool = False  # always False: asked for explicitly, checked on return


class VideoBackend(Protocol):
    def open_session(self, request: SessionRequest) -> Session:
        """Open a session as asked (recording off); raise on failure."""

    def close_session(self, session_id: str) -> None:
        """End the session; closing one already closed is not an error."""


class LoggingBackend:
    """Logs instead of calling a video system; the links are unguessable tokens."""

    def open_session(self, request: SessionRequest) -> Session:
        session_id = f"vs-{secrets.token_hex(8)}"
        log.info(
            "video session %s opened for %s on terminal %s until %s (recording %s)",
            session_id,
            request.reference,
            request.terminal or "-",
            request.ends_at.isoformat(),
            "on" if request.recording else "off",
        )
        return Session(
            session_id=session_id,
            lawyer_link=f"casecenter-video://{session_id}/lawyer?token={secrets.token_urlsafe(24)}",
            centre_link=f"casecenter-video://{session_id}/centre?token={secrets.token_urlsafe(24)}",
            recording=request.recording,
        )

    def close_session(self, session_id: str) -> None:
        log.info("video session %s closed", session_id)


def backend() -> VideoBackend:
    """The configured backend (``CASECENTER_VIDEO_BACKEND``, a dotted class path)."""
    return import_string(getattr(settings, "CASECENTER_VIDEO_BACKEND", DEFAULT_BACKEND))()
