"""record(): one lock-free INSERT in the caller's transaction, waiting for the sequencer."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casecenter.accounts.models import Organisation
from casecenter.audit import sequencer
from casecenter.audit.canonical import entry_leaf_data, parse_leaf
from casecenter.audit.merkle import leaf_hash
from casecenter.audit.models import AuditEntry, AuditHead
from casecenter.audit.services import record
from casecenter.audit.verify import verify_log

from .conftest import guard_lifted


@pytest.mark.django_db
def test_an_entry_waits_with_its_canonical_leaf_and_leaf_hash():
    with transaction.atomic():
        entry = record(None, "test.queued", reason="因为", data={"b": 2, "a": [1.5, None]})
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.seq is None  # not placed yet: the sequencer does that
    assert stored.leaf == (
        '{"action":"test.queued","actor_id":null,"actor_name":"system",'
        f'"at":"{stored.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}","data":{{"a":[1.5,null],"b":2}},'
        '"object_id":"","object_type":"","reason":"因为","v":2}'
    )
    assert bytes(stored.leaf_hash) == leaf_hash(stored.leaf.encode())
    assert entry_leaf_data(stored) == stored.leaf.encode()  # the columns say what the leaf says
    # writing never touches the head (gone altogether after an earlier test's flush)
    assert not AuditHead.objects.filter(size__gt=0).exists()


@pytest.mark.django_db
def test_entry_names_actor_target_reason_and_data(make_officer):
    officer = make_officer("wang", display_name="王警官")
    with transaction.atomic():
        entry = record(officer, "accounts.user.read", officer, reason="核对身份", data={"k": "v"})
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert (entry.actor_id, entry.actor_name) == (officer.pk, "王警官")
    assert (entry.object_type, entry.object_id) == ("accounts.user", str(officer.pk))
    assert (entry.action, entry.reason, entry.data) == (
        "accounts.user.read",
        "核对身份",
        {"k": "v"},
    )
    # the generated columns answer queries like any others
    assert AuditEntry.objects.filter(actor_id=officer.pk, action="accounts.user.read").count() == 1
    assert AuditEntry.objects.filter(data__k="v").count() == 1
    assert AuditEntry.objects.filter(at__lte=entry.at, at__gte=entry.at).count() == 1


@pytest.mark.django_db
def test_the_returned_entry_has_the_generated_columns_filled_in():
    with transaction.atomic():
        entry = record(None, "calendars.year.load", data={"year": 2025})
    assert (entry.actor_id, entry.actor_name, entry.object_type, entry.object_id) == (
        None,
        "system",
        "",
        "",
    )
    assert entry.data == {"year": 2025}
    assert entry.at.tzinfo is not None


@pytest.mark.django_db
def test_a_rolled_back_caller_leaves_no_entry_and_no_gap():
    with transaction.atomic():
        record(None, "test.first")
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        record(None, "test.rolled_back")
        1 / 0  # noqa: B018
    with transaction.atomic():
        record(None, "test.second")
    sequencer.integrate_all()
    assert list(AuditEntry.objects.order_by("seq").values_list("action", "seq")) == [
        ("test.first", 0),
        ("test.second", 1),
    ]
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
        ({"action": "test.x", "data": {"x": float("nan")}}, ValueError),
    ],
)
def test_bad_input_raises_and_writes_nothing(kwargs, error):
    with pytest.raises(error), transaction.atomic():
        record(None, **kwargs)
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_an_unsaved_target_cannot_be_audited():
    with pytest.raises(ValueError, match="unsaved"), transaction.atomic():
        record(None, "test.x", Organisation(code="new", name="未保存"))


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the service's transaction"):
        record(None, "test.autocommit")
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_a_whole_second_timestamp_round_trips(monkeypatch):
    """SQLite stores a datetime without microseconds as text without a fraction."""
    monkeypatch.setattr(
        "django.utils.timezone.now", lambda: datetime(2025, 1, 1, 0, 0, 0, tzinfo=UTC)
    )
    with transaction.atomic():
        entry = record(None, "test.x")
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.at == datetime(2025, 1, 1, tzinfo=UTC)
    assert '"at":"2025-01-01T00:00:00.000000Z"' in stored.leaf
    sequencer.integrate_all()
    assert verify_log().ok


@pytest.mark.django_db
def test_the_generated_columns_cannot_be_written_even_with_the_guard_lifted():
    """A database writer can change the leaf (which the hash catches), never a column alone."""
    with transaction.atomic():
        entry = record(None, "test.x", reason="original")
    table = AuditEntry._meta.db_table
    with (
        guard_lifted(),
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE {table} SET reason = 'edited' WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).reason == "original"


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
def test_any_json_data_and_text_keep_their_leaf_and_columns_through_the_database(data, reason):
    with transaction.atomic():
        entry = record(None, "test.roundtrip", reason=reason, data=data)
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.leaf == entry.leaf
    assert bytes(stored.leaf_hash) == leaf_hash(stored.leaf.encode("utf-8"))
    leaf = parse_leaf(stored.leaf)
    assert (stored.reason, stored.action) == (reason, "test.roundtrip")
    # the generated data column holds the same JSON as the leaf (numbers compared as JSON)
    assert json.loads(json.dumps(stored.data)) == leaf["data"]


# --- concurrency -------------------------------------------------------------

THREADS, APPENDS = 6, 15


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_take_no_lock_and_lose_nothing():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("an in-memory SQLite database is one connection's; set CASECENTER_TEST_SQLITE")
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
    sequencer.integrate_all()
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == list(range(THREADS * APPENDS))
    assert sorted((e.data["worker"], e.data["n"]) for e in entries) == [
        (w, n) for w in range(THREADS) for n in range(APPENDS)
    ]
    assert verify_log().ok


@pytest.mark.django_db
def test_a_duplicate_seq_is_refused_by_the_database(log):
    with transaction.atomic():
        waiting = record(None, "test.x")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=waiting.pk).update(seq=log[0].seq)
    assert AuditEntry.objects.get(pk=waiting.pk).seq is None
