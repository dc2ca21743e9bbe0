"""Model fields that keep their value encrypted at rest (see ``crypto``)."""

from __future__ import annotations

from typing import Any

from django.db import models

from casecenter.privacy import crypto


class EncryptedTextField(models.TextField):
    """A text column stored as an AES-GCM token; Python code sees plain text.

    ``context`` (e.g. ``"cases.person.id_number"``) is bound into the
    ciphertext, so it must never change for a column. Not searchable: pair it
    with a blind-index column where equality look-ups are needed.
    """

    def __init__(self, *args: Any, context: str = "", **kwargs: Any) -> None:
        self.context = context
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[Any, ...]:
        name, path, args, kwargs = super().deconstruct()
        kwargs["context"] = self.context
        return name, path, args, kwargs

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value, context=self.context)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value), context=self.context)
