"""``casecenter ingest``: device events from MQTT into custody state, at least once.

Two lanes, each an MQTT session of its own with a queue and a thread: the
*presence lane* (client id ``<id>-presence``) takes the presence topics alone,
the *main lane* (``<id>``) everything else — vital signs, status reports,
cameras' answers. A room entry is applied, committed and its camera commands
published in the presence lane's own short transaction, so it never waits
behind a batch of readings: not in the broker (each session has its own window
of unacknowledged messages), not in a queue, not in a transaction. The live
rules look at what it changed afterwards, in the presence lane's second thread
(``apply_events(defer_looks=True)``, then ``look_again``), and its messages are
acknowledged only after that look; one delivered again is replayed and looked
at again (``replay_duplicates``).

In each lane paho's network thread receives messages and puts them on the
lane's queue; it never touches the database. The lane's thread takes them in
batches (up to ``batch`` messages, waiting at most ``linger`` for more while
they keep coming), applies each batch with ``tracking.apply_events`` in one
transaction, and only after that transaction committed acknowledges the
batch's messages (``manual_ack``: PUBACK after commit). A process killed
between receiving and committing has acknowledged nothing, so the broker
delivers those messages again to the persistent session; one killed between
commit and acknowledgement gets them again too, and ``apply_events`` counts
them as duplicates by (device, seq). Nothing is lost, nothing applied twice.

The camera commands a batch decided are marked published in its transaction
and published (QoS 1) after the commit; a timer publishes again every command
not confirmed after ``resend_after`` (3 s), claiming it first in a short
transaction of its own, so a command lost with a crash between commit and
publication, or by a camera that was offline, is sent again — by one ingester
only when several share the devices.

Several ingesters share the device traffic with an MQTT 5 shared subscription
(``share_group``: ``$share/<group>/casecenter/v1/+/+/+``), each with its own
client id: the broker hands each message to one of them. They rely on what
makes one ingester safe — (device, seq) stored once, the device's row locked
while its events are applied, presence replayed from the stored events in
device-time order — so events of one device applied by two ingesters, in
either order, leave the same state (docs/device-protocol.md, "Several
ingesters").

The main lane receives the presence topics too (its subscription is every
topic, for the dead letters of unknown kinds). It holds each presence message
aside and acknowledges it once the presence lane has committed its own copy;
one the presence lane has not received after ``HOLD`` seconds — its session
missed it (its first run after an upgrade, a broker that lost its sessions), or
another ingester's presence lane has it (shared subscriptions) — it applies in
a small transaction of its own: a duplicate then if it was stored meanwhile.
Either way it is acknowledged only after it is stored (out of order with the
messages after it: brokers match a PUBACK to its message by packet id).

A message that cannot be parsed, or a valid event whose application fails on
its own, is kept as a ``RejectedMessage`` with the reason and acknowledged: a
poison message must not block the queue behind it. A database that is away
(connection lost, SQLite busy) is different: the batch is retried, not
acknowledged, until the database is back.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    connection,
    transaction,
)
from django.utils import timezone
from paho.mqtt.subscribeoptions import SubscribeOptions

from casecenter.custody import tracking
from casecenter.custody.models import Camera, CameraCommand
from casecenter.devices import broker, protocol
from casecenter.devices.models import RejectedMessage
from casecenter.devices.services import Rejected, dead_letter
from casecenter.errors import DomainError
from casecenter.ops import metrics

log = logging.getLogger(__name__)

#: every event topic of every center; the ingester's own commands are not echoed
#: (MQTT 5 no-local), another ingester's are recognised and skipped
SUBSCRIPTION = f"{protocol.PREFIX}/+/+/+"
#: the presence lane's topics: room entries and exits
PRESENCE_SUBSCRIPTION = f"{protocol.PREFIX}/+/presence/+"
#: seconds the main lane holds a presence message before checking it was stored
HOLD = 2.0
#: errors of a database that is away for a moment: retry the batch, acknowledge nothing
TRANSIENT = (OperationalError, InterfaceError)


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int  # which connection delivered it: acknowledge only on that one
    arrived: float = 0.0  # time.monotonic() at receipt


@dataclass
class Totals:
    received: int = 0
    new: int = 0
    duplicates: int = 0
    unknown: int = 0
    rejected: int = 0
    skipped: int = 0  # command messages of another ingester
    batches: int = 0
    retries: int = 0
    commands: int = 0
    resent: int = 0
    clock_ahead: int = 0  # events placed at their arrival: the device's clock ran ahead
    presence_held: int = 0  # presence messages the main lane applied after holding them

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))

    def __add__(self, other: Totals) -> Totals:
        return Totals(**{k: v + getattr(other, k) for k, v in vars(self).items()})


def subscription(share_group: str = "", topics: str = SUBSCRIPTION) -> str:
    """The topic filter of a lane: ``topics``, or shared by the ingesters of
    ``share_group`` (``$share/<group>/…``: the broker gives each message to one)."""
    if not share_group:
        return topics
    if any(c in share_group for c in "/+#") or len(share_group) > 64:
        raise ValueError(f"not a share group name (no / + #, at most 64): {share_group!r}")
    return f"$share/{share_group}/{topics}"


def sessions(client_id: str, share_group: str = "") -> list[tuple[str, str]]:
    """(client id, topic filter) of each of an ingester's sessions: the main lane's
    and the presence lane's."""
    return [
        (client_id, subscription(share_group)),
        (f"{client_id}-presence", subscription(share_group, PRESENCE_SUBSCRIPTION)),
    ]


class Ingester:
    """One ingesting process (see the module doc). ``run()`` until ``stop()``."""

    def __init__(
        self,
        url: str,
        *,
        client_id: str = "casecenter-ingest",
        batch: int = 500,
        linger: float = 0.05,
        resend_after: float = 3.0,
        session_expiry: int = 7 * 86_400,
        stats_every: float = 30.0,
        share_group: str = "",
        presence_lane: bool = True,
        topics: str = SUBSCRIPTION,
    ) -> None:
        self.share_group = share_group
        self.subscription = subscription(share_group, topics)
        self.main = topics == SUBSCRIPTION  # the resend timer and the totals live here
        #: the lane that takes the presence topics (None: this one applies them at once)
        self.presence: Ingester | None = None
        if presence_lane and self.main:
            self.presence = Ingester(
                url,
                client_id=f"{client_id}-presence",
                batch=batch,
                linger=0.0,  # an entry waits for no other
                resend_after=resend_after,
                session_expiry=session_expiry,
                stats_every=0,
                share_group=share_group,
                topics=PRESENCE_SUBSCRIPTION,
            )
        self._held: list[Message] = []  # main lane: presence messages for the presence lane
        #: presence lane: (topic, payload) → None while in hand, the time it was committed
        self._seen: dict[tuple[str, bytes], float | None] = {}
        self._pruned_at = 0.0
        self._looks: list[tracking.Applied] = []  # presence lane: the looks of a batch, deferred
        self._to_look: queue.Queue[tuple[datetime, list[tracking.Applied], list[Message]]] = (
            queue.Queue()
        )
        self._failed: BaseException | None = None
        self.batch = max(1, batch)
        self.linger = max(0.0, linger)
        self.resend_after = timedelta(seconds=resend_after)
        self.stats_every = stats_every
        self.totals = Totals()
        self.inbox: queue.Queue[Message] = queue.Queue()
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # the connection generation vs. acknowledgements
        self._generation = 0
        self.connected = threading.Event()
        self.client_id = client_id
        self.client, self.broker = broker.make_client(url, client_id, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self._session_expiry = session_expiry
        self._sources: dict[int, Message] = {}  # a batch's events → the messages they came in

    # --- the network thread -----------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("broker refused the connection: %s", reason_code)
            return
        with self._lock:
            self._generation += 1
            again = self._generation > 1
        # A broker that lost its state (restarted without persistence) has
        # forgotten the subscription: make it again (harmless when it remembers).
        # No Local is a protocol error on a shared subscription (MQTT 5, 3.8.3.1):
        # there the commands come back and are skipped as another ingester's.
        client.subscribe(
            self.subscription, options=SubscribeOptions(qos=1, noLocal=not self.share_group)
        )
        if self.share_group:  # the session of an earlier unshared run would get everything too
            client.unsubscribe(SUBSCRIPTION)
        log.info(
            "%s to %s:%s (session %s)",
            "reconnected" if again else "connected",
            self.broker.host,
            self.broker.port,
            "resumed" if flags.session_present else "new",
        )
        self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        if not self._stopping.is_set():
            log.warning("lost the broker (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, msg) -> None:
        if not self.main:
            self._seen[(msg.topic, msg.payload)] = None
        self.inbox.put(
            Message(msg.topic, msg.payload, msg.mid, msg.qos, self._generation, time.monotonic())
        )

    # --- the lanes' threads -----------------------------------------------------------

    def stop(self) -> None:
        self._stopping.set()
        if self.presence is not None:
            self.presence.stop()

    def run(self) -> Totals:
        """Run the lanes until ``stop()``: the presence lane in a thread of its own,
        this one here; returns the totals of both."""
        if self.presence is None:
            return self._run()
        lane = threading.Thread(target=self._run_presence, name="ingest-presence")
        lane.start()
        try:
            totals = self._run()
        finally:
            self.presence.stop()
            lane.join()
        if self.presence._failed is not None:
            raise self.presence._failed
        return totals + self.presence.totals

    def _run_presence(self) -> None:
        assert self.presence is not None
        try:
            self.presence._run()
            if self.presence._failed is not None:
                self.stop()
        except BaseException as exc:  # the process stops with it: a lane alone is no ingester
            self.presence._failed = exc
            log.exception("the presence lane failed; stopping")
            self.stop()
        finally:
            connection.close()  # this thread's own

    def _run(self) -> Totals:
        log.info(
            "ingester starting: broker %s:%s, client id %s (%s), batches of %d, %s",
            self.broker.host,
            self.broker.port,
            self.client_id,
            "main lane" if self.main else "presence lane",
            self.batch,
            f"share group {self.share_group}" if self.share_group else "not shared",
        )
        broker.connect(
            self.client,
            self.broker,
            persistent=True,
            session_expiry=self._session_expiry,
            receive_maximum=min(self.batch * 2, 65_535),
        )
        next_resend = next_stats = time.monotonic()
        looker = None
        if not self.main:
            looker = threading.Thread(target=self._run_looks, name="ingest-presence-rules")
            looker.start()
        try:
            while not self._stopping.is_set():
                messages = self._collect(timeout=max(0.0, min(0.2, next_resend - time.monotonic())))
                if self.presence is not None:
                    messages = self._hold_presence(messages)
                try:
                    if messages:
                        self.process(messages)
                    if self.presence is not None:
                        self._settle_held()
                except TRANSIENT:
                    if self._stopping.is_set():
                        break  # stopped while the database was away: nothing acknowledged
                    raise
                now = time.monotonic()
                if now >= next_resend:
                    if self.main:
                        self._guarded(self.resend)
                    next_resend = now + 1.0
                if self.stats_every and now >= next_stats:
                    totals = self.totals + self.presence.totals if self.presence else self.totals
                    if totals.received:
                        log.info("ingest totals %s", totals.as_dict())
                    next_stats = now + self.stats_every
        finally:
            if looker is not None:
                self._stopping.set()
                looker.join()
            self.client.disconnect()
            self.client.loop_stop()
            log.info("%s stopped: %s", self.client_id, self.totals.as_dict())
        return self.totals

    def _hold_presence(self, messages: list[Message]) -> list[Message]:
        """The batch without its presence messages, held for the presence lane."""
        batch = []
        for message in messages:
            (self._held if _kind(message.topic) == "presence" else batch).append(message)
        return batch

    def _settle_held(self) -> None:
        """Acknowledge the held presence messages the presence lane has committed;
        apply those it has not received after ``HOLD`` seconds (see the module doc)."""
        if not self._held:
            return
        assert self.presence is not None
        seen, now = self.presence._seen, time.monotonic()
        done, due, keep = [], [], []
        for message in self._held:
            state = seen.get((message.topic, message.payload), False)
            if state is None or (state is False and now - message.arrived < HOLD):
                keep.append(message)  # in the presence lane's hands, or maybe on its way
            else:
                (due if state is False else done).append(message)
        self._held = keep
        self._ack(done)
        if due:
            self.totals.presence_held += len(due)
            self.process(due)

    def _collect(self, timeout: float) -> list[Message]:
        """Up to ``batch`` messages: wait ``timeout`` for the first, then take what
        is queued and wait for more only while they keep coming, at most ``linger``.
        (A broker caps the unacknowledged messages in flight, so waiting for a
        full batch would wait for messages that come only after this one's acks.)"""
        try:
            messages = [self.inbox.get(timeout=timeout)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.linger
        gap = min(0.005, self.linger)
        while len(messages) < self.batch:
            try:
                messages.append(self.inbox.get_nowait())
                continue
            except queue.Empty:
                pass
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                messages.append(self.inbox.get(timeout=min(gap, left)))
            except queue.Empty:
                break
        return messages

    def process(self, messages: Sequence[Message]) -> None:
        """Parse, apply and commit one batch; then acknowledge it and publish commands."""
        events: list[tuple[Message, tracking.Event]] = []
        rejected: list[Rejected] = []
        for message in messages:
            try:
                events.append((message, protocol.parse(message.topic, message.payload)))
            except protocol.ProtocolError as exc:
                if exc.code == "kind" and _is_command(message.topic):
                    self.totals.skipped += 1
                else:
                    rejected.append(Rejected(message, exc.code, exc.message))
        received_at = timezone.now()
        self._sources = {id(event): message for message, event in events}
        # Readings and status reports in one transaction; what moves people and
        # cameras (presence, cameras' answers) in a short one of its own before it,
        # so the rows the presence lane needs are never held for a batch's time.
        rooms = [(m, e) for m, e in events if _moves(e)]
        readings = [(m, e) for m, e in events if not _moves(e)]
        commands = self._apply(rooms, rejected, received_at) if rooms or rejected else []
        if readings:
            commands += self._apply(readings, [], received_at)
        self.totals.received += len(messages)
        self.totals.batches += 1
        self.totals.rejected += len(rejected)
        for item in rejected:
            log.warning(
                "rejected %s: %s (%s)",
                item.message.topic if item.message else "?",
                item.text,
                item.code,
            )
        if self.main:
            self._ack(messages)
            self._guarded(lambda: self.publish(commands))
            return
        # the presence lane: the commands out at once; the rules' look, then the
        # acknowledgements, in the lane's rules thread, while the next entries come
        self._guarded(lambda: self.publish(commands))
        self._committed(messages)
        looks, self._looks = self._looks, []
        self._to_look.put((received_at, looks, list(messages)))

    def _run_looks(self) -> None:
        """Presence lane's rules thread: each batch's look, then its acknowledgements
        (in the order of the batches); what is queued is finished on ``stop()``."""
        try:
            while True:
                try:
                    received_at, looks, messages = self._to_look.get(timeout=0.2)
                except queue.Empty:
                    if self._stopping.is_set():
                        return
                    continue
                self._look_again(received_at, looks)
                self._ack(messages)
        except TRANSIENT:
            return  # stopped while the database was away: the rest comes again
        except BaseException as exc:  # a lane that acknowledges nothing more is no lane
            self._failed = exc
            log.exception("the presence lane's rules thread failed; stopping")
            self._stopping.set()
        finally:
            connection.close()  # this thread's own

    def _look_again(self, received_at: datetime, looks: list[tracking.Applied]) -> None:
        """The live rules' look at what a batch changed, after its commands went
        out; retried while the database is away. A look that fails otherwise is
        logged: the facts are stored, the next change there looks again."""
        delay = 0.1
        for applied in looks:
            while True:
                try:
                    tracking.look_again(applied, received_at)
                    break
                except TRANSIENT as exc:
                    delay = self._database_away(exc, delay, "looking again")
                except ProgrammingError:
                    raise
                except Exception:
                    log.exception("the live rules could not look at a batch")
                    break

    def _committed(self, messages: Sequence[Message]) -> None:
        """Presence lane: these messages are stored (for the main lane's held copies),
        remembered a minute."""
        now = time.monotonic()
        for message in messages:
            self._seen[(message.topic, message.payload)] = now
        if now - self._pruned_at > 10:
            self._pruned_at = now
            for key, at in list(self._seen.items()):  # list(): the network thread adds
                if at is not None and now - at > 60:
                    self._seen.pop(key, None)

    def _apply(
        self,
        events: list[tuple[Message, tracking.Event]],
        rejected: list[Rejected],
        received_at: datetime,
    ) -> list[CameraCommand]:
        """Commit the batch (and its dead letters); retry while the database is
        away; when the batch itself fails, apply its events one by one."""
        delay, isolate, state = 0.1, False, {"dead_letters": False}
        while True:
            try:
                if isolate:
                    return self._one_by_one(events, rejected, received_at, state)
                return self._commit([e for _, e in events], rejected, received_at)
            except TRANSIENT as exc:
                delay = self._database_away(exc, delay, "retrying the batch")
            except ProgrammingError:
                raise  # a missing table or column: an installation problem, not a message's
            except Exception as exc:
                # A concurrent writer of the same (device, seq) — gone on retry — or
                # one poison event: apply one by one, set aside what fails alone.
                if isolate:
                    raise
                self.totals.retries += 1
                isolate = True
                log.warning("batch failed (%r); applying its events one by one", exc)

    def _database_away(self, exc: Exception, delay: float, doing: str) -> float:
        """The database is away (restarting, a failover): wait ``delay`` seconds and
        return the next wait, doubled up to 5 s; while stopping, give up at once."""
        if self._stopping.is_set():
            raise exc
        self.totals.retries += 1
        log.warning("database unavailable (%s); %s in %.1f s", exc, doing, delay)
        connection.close()
        time.sleep(delay)
        return min(delay * 2, 5.0)

    def _one_by_one(self, events, rejected, received_at, state) -> list[CameraCommand]:
        if not state["dead_letters"]:
            self._commit([], rejected, received_at)
            state["dead_letters"] = True
        commands: list[CameraCommand] = []
        for message, event in events:
            try:
                commands += self._commit([event], [], received_at)
            except TRANSIENT:
                raise
            except ProgrammingError:
                raise
            except Exception as exc:
                log.exception("event %s/%s could not be applied", event.device, event.seq)
                failed = Rejected(message, "apply_failed", repr(exc)[:500], event)
                self._commit([], [failed], received_at)
                rejected.append(failed)
        return commands

    def _commit(
        self, events: list[tracking.Event], rejected: list[Rejected], received_at: datetime
    ) -> list[CameraCommand]:
        with transaction.atomic():
            applied = (
                tracking.apply_events(
                    events,
                    received_at=received_at,
                    defer_looks=not self.main,
                    replay_duplicates=not self.main,
                )
                if events
                else None
            )
            if applied and applied.commands:  # this ingester's to send; the others' timers wait
                tracking.mark_published(applied.commands)
            refused = [
                Rejected(self._sources.get(id(event)), code, text, event)
                for event, code, text in (applied.rejected if applied else [])
            ]
            if rejected or refused:
                RejectedMessage.objects.bulk_create(
                    [
                        dead_letter(r, RejectedMessage.Source.MQTT, received_at)
                        for r in [*rejected, *refused]
                    ]
                )
        if applied is None:
            return []
        if applied.looks is not None:
            self._looks.append(applied)
        for item in refused:
            log.warning(
                "rejected %s: %s (%s)",
                item.message.topic if item.message else item.event.device,
                item.text,
                item.code,
            )
        self.totals.rejected += len(refused)
        refused_ids = {id(event) for event, _, _ in applied.rejected}
        metrics.record_ingest(
            (e.device_time for e in events if id(e) not in refused_ids),
            timezone.now(),
            new=applied.new,
            duplicates=applied.duplicates,
            refused=len(refused),
        )
        self.totals.clock_ahead += applied.clock_ahead
        self.totals.new += applied.new
        self.totals.duplicates += applied.duplicates
        self.totals.unknown += applied.unknown
        return applied.commands

    def _ack(self, messages: Sequence[Message]) -> None:
        """PUBACK, in the order received, for the messages of the connection that is
        up; older ones come again on the new connection (and are duplicates then)."""
        with self._lock:
            generation = self._generation
            for message in messages:
                if message.qos > 0 and message.generation == generation:
                    self.client.ack(message.mid, message.qos)

    def publish(self, commands: Sequence[CameraCommand]) -> None:
        """Publish camera commands (QoS 1), already marked published (claimed)."""
        if not commands:
            return
        cameras = {
            c.pk: c
            for c in Camera.objects.filter(pk__in={c.camera_id for c in commands}).select_related(
                "zone__center"
            )
        }
        sent = []
        for command in commands:
            camera = cameras[command.camera_id]
            try:
                tracking.check_audio(camera, command.audio)
            except DomainError:
                log.error("refusing to send %s: audio in %s", command.command_id, camera.zone)
                continue
            self.client.publish(
                command_topic(camera.zone.center.code, camera.code),
                protocol.command_payload(
                    command.command_id, command.action, command.audio, command.created_at
                ),
                qos=1,
            )
            sent.append(command)
        self.totals.commands += len(sent)

    def resend(self) -> int:
        """Publish again the commands not confirmed after ``resend_after``."""
        commands = tracking.claim_resends(self.resend_after)
        self.publish(commands)
        self.totals.resent += len(commands)
        return len(commands)

    def _guarded(self, work: Callable[[], object]) -> None:
        """Publication and resending may fail with the database away: the resend
        timer covers what they did not do."""
        try:
            work()
        except DatabaseError as exc:
            log.warning("publishing commands failed (%s); the resend timer will retry", exc)
            connection.close()


def _moves(event: tracking.Event) -> bool:
    """A presence, or a camera's status (it carries ``recording``)."""
    return event.kind == "presence" or "recording" in event.payload


def _is_command(topic: str) -> bool:
    return _kind(topic) == protocol.COMMAND


def _kind(topic: str) -> str:
    parts = topic.split("/")
    return parts[3] if len(parts) == 5 else ""


def command_topic(center: str, camera: str) -> str:
    return protocol.topic_for(center, protocol.COMMAND, camera)
