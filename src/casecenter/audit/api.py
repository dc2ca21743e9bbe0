"""API: the audit log's inclusion proofs, signed checkpoint and public keys (docs/api.md).

What is handed out here is checked offline, with only the log's public keys:
``casecenter audit check-proof`` or any RFC 9162 / C2SP implementation.
Every read is audited (:mod:`casecenter.audit.selectors`).
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import Field

from casecenter.apicontract import also_answers
from casecenter.audit import selectors

router = Router(tags=["audit"])

#: An entry's place in the log (0, 1, 2 …), bounded so no database sees a larger integer.
Seq = Annotated[int, Field(ge=0, le=2**53)]

#: The C2SP tlog-checkpoint media type (a signed note is UTF-8 text).
CHECKPOINT_TYPE = "text/plain; charset=utf-8"


class ProofOut(Schema):
    """A proof bundle: the entry, its audit path and the signed checkpoint it leads to."""

    format: str = Field(description="casecenter-audit-inclusion/v1")
    index: int = Field(description="the entry's place in the log (its seq)")
    leaf: str = Field(description="the entry's canonical JSON, exactly the bytes hashed")
    tree_size: int = Field(description="the size of the checkpoint's tree")
    proof: list[str] = Field(description="the audit path, base64 hashes, bottom-up (RFC 9162)")
    checkpoint: str = Field(description="the signed checkpoint (C2SP signed note)")


class KeysOut(Schema):
    origin: str = Field(description="the log's name: its checkpoints' first line")
    keys: list[str] = Field(description="verifier keys (C2SP signed-note), oldest first")


@router.get("/entries/{seq}/proof", response=ProofOut)
@also_answers(409)
def entry_proof(request: HttpRequest, seq: Seq) -> dict[str, Any]:
    """An inclusion proof of entry ``seq`` against the latest signed checkpoint (audited).

    404 while the entry waits for the sequencer; 409 if the stored tree is
    damaged (``audit verify`` names how). Needs ``audit.view_auditentry`` or the
    administrator role.
    """
    return selectors.entry_proof(request.auth, seq)


@router.get(
    "/checkpoint",
    openapi_extra={
        "responses": {
            200: {
                "description": "The latest signed checkpoint (C2SP tlog-checkpoint).",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        }
    },
)
def latest_checkpoint(request: HttpRequest) -> HttpResponse:
    """The latest signed checkpoint, as text (a C2SP signed note; audited)."""
    text = selectors.latest_checkpoint(request.auth)
    return HttpResponse(text, content_type=CHECKPOINT_TYPE)


@router.get("/keys", response=KeysOut)
def verifier_keys(request: HttpRequest) -> dict[str, Any]:
    """The public keys that verify the log's checkpoints, retired ones too (audited)."""
    origin, keys = selectors.verifier_keys(request.auth)
    return {"origin": origin, "keys": keys}
