"""record(): contiguous appends under the head lock, inside the caller's transaction."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casecenter.accounts.models import Organisation
from casecenter.audit.canonical import entry_leaf_data
from casecenter.audit.merkle import EMPTY_ROOT, leaf_hash, root_hash
from casecenter.audit.models import AuditEntry, AuditHead
from casecenter.audit.services import record
from casecenter.audit.verify import verify_log


@pytest.mark.django_db
def test_entries_get_contiguous_seqs_and_each_stores_the_tree_head_after_it(log):
    stored = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in stored] == [0, 1, 2, 3, 4]
    leaves = [entry_leaf_data(e) for e in stored]
    for entry, data in zip(stored, leaves, strict=True):
        assert bytes(entry.leaf_hash) == leaf_hash(data)
        assert bytes(entry.tree_root) == root_hash(leaves[: entry.seq + 1])
    head = AuditHead.objects.get()
    assert head.size == 5
    assert bytes(head.root) == root_hash(leaves)
    assert len(head.frontier) == 2  # 5 = 4 + 1: two perfect subtrees


@pytest.mark.django_db
def test_entry_names_actor_target_reason_and_data(make_officer):
    officer = make_officer("wang", display_name="王警官")
    with transaction.atomic():
        entry = record(officer, "accounts.user.read", officer, reason="核对身份", data={"k": "v"})
    entry = AuditEntry.objects.get(seq=entry.seq)
    assert (entry.actor_id, entry.actor_name) == (officer.pk, "王警官")
    assert (entry.object_type, entry.object_id) == ("accounts.user", str(officer.pk))
    assert (entry.action, entry.reason, entry.data) == (
        "accounts.user.read",
        "核对身份",
        {"k": "v"},
    )


@pytest.mark.django_db
def test_system_entries_have_no_actor_id_and_no_target():
    with transaction.atomic():
        entry = record(None, "calendars.year.load")
    assert (entry.actor_id, entry.actor_name, entry.object_type, entry.object_id) == (
        None,
        "system",
        "",
        "",
    )
    assert entry.data == {}


@pytest.mark.django_db
def test_a_rolled_back_caller_leaves_no_gap_in_the_log():
    with transaction.atomic():
        record(None, "test.first")
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        record(None, "test.rolled_back")
        1 / 0  # noqa: B018
    with transaction.atomic():
        second = record(None, "test.second")
    assert second.seq == 1
    assert verify_log().ok


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"action": ""}, ValueError),
        ({"action": "x" * 101}, ValueError),
        ({"action": "test.x", "data": ["not", "a", "mapping"]}, TypeError),
        ({"action": "test.x", "data": {"when": datetime(2025, 1, 1, tzinfo=UTC)}}, TypeError),
        ({"action": "test.x", "reason": "nul\x00"}, ValueError),
    ],
)
def test_bad_input_raises_and_writes_nothing(kwargs, error):
    with pytest.raises(error), transaction.atomic():
        record(None, **kwargs)
    assert not AuditEntry.objects.exists()
    assert AuditHead.objects.get().size == 0


@pytest.mark.django_db
def test_an_unsaved_target_cannot_be_audited():
    with pytest.raises(ValueError), transaction.atomic():
        record(None, "test.x", Organisation(code="new", name="未保存"))


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the service's transaction"):
        record(None, "test.autocommit")
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_a_missing_head_is_recreated_for_an_empty_log():
    AuditHead.objects.all().delete()
    with transaction.atomic():
        entry = record(None, "test.x")
    assert entry.seq == 0
    assert AuditHead.objects.get().size == 1


@pytest.mark.django_db
def test_a_missing_head_is_not_recreated_over_existing_entries(log):
    AuditHead.objects.all().delete()
    with pytest.raises(RuntimeError, match="head is missing"), transaction.atomic():
        record(None, "test.x")
    assert AuditEntry.objects.count() == 5


@pytest.mark.django_db
def test_the_head_starts_empty():
    head = AuditHead.objects.get()
    assert (head.size, head.frontier, bytes(head.root)) == (0, [], EMPTY_ROOT)


@pytest.mark.django_db
def test_a_whole_second_timestamp_round_trips(monkeypatch):
    """SQLite stores a datetime without microseconds as text without a fraction."""
    monkeypatch.setattr(
        "django.utils.timezone.now", lambda: datetime(2025, 1, 1, 0, 0, 0, tzinfo=UTC)
    )
    with transaction.atomic():
        entry = record(None, "test.x")
    stored = AuditEntry.objects.get(seq=entry.seq)
    assert entry_leaf_data(stored) == entry_leaf_data(entry)
    assert b'"at":"2025-01-01T00:00:00.000000Z"' in entry_leaf_data(stored)
    assert verify_log().ok


json_text = st.text(
    st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=12
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | json_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_text, inner, max_size=4),
    max_leaves=12,
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(json_text, json_values, max_size=5), reason=json_text)
def test_any_json_data_and_text_hash_the_same_after_a_trip_through_the_database(data, reason):
    with transaction.atomic():
        entry = record(None, "test.roundtrip", reason=reason, data=data)
    stored = AuditEntry.objects.get(seq=entry.seq)
    assert entry_leaf_data(stored) == entry_leaf_data(entry)
    assert bytes(stored.leaf_hash) == leaf_hash(entry_leaf_data(stored))


@pytest.mark.django_db
def test_verify_accepts_a_log_of_any_json_after_the_database_trip():
    with transaction.atomic():
        for value in (1e16, -0.0, 5e-324, 1.5e308, 2**70, "混合 text ✓", [1.5, None]):
            record(None, "test.roundtrip", data={"v": value})
    report = verify_log()
    assert report.ok, report.problem


# --- concurrency -------------------------------------------------------------

THREADS, APPENDS = 6, 15


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("head", ["present", "missing"])
def test_concurrent_appends_from_many_connections_never_repeat_or_skip_a_seq(head):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("an in-memory SQLite database is one connection's; set CASECENTER_TEST_SQLITE")
    if head == "present":
        AuditHead.objects.get_or_create(pk=1)
    else:
        AuditHead.objects.all().delete()  # as after a flush: the appenders race to create it
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def append_many(worker: int) -> None:
        try:
            start.wait()
            for n in range(APPENDS):
                with transaction.atomic():
                    record(None, "test.concurrent", data={"worker": worker, "n": n})
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=append_many, args=(w,)) for w in range(THREADS)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()

    assert errors == []
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == list(range(THREADS * APPENDS))
    assert sorted((e.data["worker"], e.data["n"]) for e in entries) == [
        (w, n) for w in range(THREADS) for n in range(APPENDS)
    ]
    assert verify_log().ok


@pytest.mark.django_db
def test_a_duplicate_seq_is_refused_by_the_database():
    with transaction.atomic():
        first = record(None, "test.x")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.create(
            seq=first.seq,
            at=first.at,
            actor_name="x",
            action="test.forged",
            leaf_hash=bytes(32),
            tree_root=bytes(32),
        )
