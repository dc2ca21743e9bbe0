"""Domain errors: a stable code and a message in both languages.

The API turns them into JSON 4xx responses, the UI into form errors. A service
raises one *before* it writes anything, or inside its transaction so the
transaction rolls back: a domain error never leaves a half-written change.
"""

from __future__ import annotations

from django.utils.translation import get_language


class DomainError(Exception):
    """Base of every error a user can cause. ``status`` is the HTTP status."""

    status = 400

    def __init__(self, code: str, message_zh: str, message_en: str, **facts: object) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.facts = facts

    @property
    def message(self) -> str:
        lang = get_language() or "zh-hans"
        return self.message_en if lang.startswith("en") else self.message_zh

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            **({"facts": self.facts} if self.facts else {}),
        }


class InvalidInput(DomainError):
    """The request itself is wrong, whatever the state of the records: a value
    outside its set, an end before its start, a check digit."""

    status = 422


class PermissionDenied(DomainError):
    status = 403


class NotFound(DomainError):
    """What the request names is not there, or not for the caller to see (the
    same answer, so nothing is learnt by asking)."""

    status = 404


class Conflict(DomainError):
    """The request would do, but the record's current state forbids it: it changed
    since the client read it (optimistic concurrency), or it is closed, done,
    already there (a duplicate) or not yet ready for this step."""

    status = 409
