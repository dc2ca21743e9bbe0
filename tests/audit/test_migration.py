"""Migration 0004: a log of leaf format 1 is carried, in order, into the transparency log."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from casecenter.audit import sequencer
from casecenter.audit.merkle import CompactRange
from casecenter.audit.models import AuditEntry
from casecenter.audit.verify import verify_log

BEFORE = [("audit", "0003_audit_head_row")]
AT = datetime(2026, 11, 30, 8, 0, 0, 120, tzinfo=UTC)


def _v1_leaf(seq: int, action: str, data: dict) -> bytes:
    document = {
        "seq": seq,
        "at": AT.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": 7,
        "actor_name": "李警官",
        "action": action,
        "object_type": "cases.case",
        "object_id": str(40 + seq),
        "reason": "立案",
        "data": data,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@pytest.mark.django_db(transaction=True)
def test_a_v1_log_is_queued_in_order_with_a_note_of_its_old_root_and_then_verifies():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    Old = old_apps.get_model("audit", "AuditEntry")
    Head = old_apps.get_model("audit", "AuditHead")
    tree = CompactRange()
    actions = ["case.accept", "case.transition", "case.read_personal"]
    for seq, action in enumerate(actions):
        leaf = hashlib.sha256(b"\x00" + _v1_leaf(seq, action, {"n": seq})).digest()
        tree.append(leaf)
        Old.objects.create(
            seq=seq,
            at=AT,
            actor_id=7,
            actor_name="李警官",
            action=action,
            object_type="cases.case",
            object_id=str(40 + seq),
            reason="立案",
            data={"n": seq},
            leaf_hash=leaf,
            tree_root=tree.root(),
        )
    Head.objects.update_or_create(
        pk=1, defaults={"size": 3, "frontier": tree.to_hex(), "root": tree.root()}
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    carried = list(AuditEntry.objects.order_by("id"))
    assert [e.action for e in carried] == [*actions, "audit.log_migrated"]
    assert all(e.seq is None for e in carried)  # waiting for the sequencer
    first = carried[0]
    assert (first.at, first.actor_id, first.actor_name, first.object_id, first.data) == (
        AT,
        7,
        "李警官",
        "40",
        {"n": 0},
    )
    assert carried[-1].data == {"leaf_format": 2, "old_size": 3, "old_root": tree.root().hex()}

    sequencer.integrate_all()
    report = verify_log()
    assert report.ok, report.problem
    assert report.size == 4
