"""The simulator's side of the wire: a gateway that sends device events to
casecenter over HTTP or MQTT, and plays the center's cameras.

The cameras behave as ``docs/device-protocol.md`` asks of a real one: each
command is carried out (unless a newer one was, by its ``ts``) and answered
after a short delay with a status event naming it; a repeated command id is
answered again and changes nothing. The cameras of a ``Breakdown`` do not: a
silent one never answers, a faulty one answers every command (and every resend)
``recording: false`` with its fault.
"""

from __future__ import annotations

import heapq
import json
import logging
import queue
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from casecenter.devices import broker, protocol
from casecenter.devices.simulator import Breakdown, Person, Simulation, World

log = logging.getLogger(__name__)

Command = dict[str, Any]  # {"camera", "id", "action", "audio", "ts"}


class Sequences:
    """Per-device sequence numbers that never repeat, even across restarts of the
    simulator: they start from the clock (milliseconds since 1970)."""

    def __init__(self) -> None:
        self.base = int(time.time() * 1000)
        self.used: dict[str, int] = {}

    def next(self, device: str) -> int:
        seq = self.used.get(device, self.base - 1) + 1
        self.used[device] = seq
        return seq


@dataclass
class _Camera:
    recording: bool = False
    audio: bool = False
    last: datetime | None = None  # ts of the newest command carried out


@dataclass
class Cameras:
    """The center's cameras: commands in, status answers out after a short delay."""

    rng: random.Random
    delay: tuple[float, float] = (0.2, 1.0)  # seconds, real time
    breakdown: Breakdown = field(default_factory=Breakdown)
    state: dict[str, _Camera] = field(default_factory=dict)
    _due: list[tuple[float, int, str, Command]] = field(default_factory=list)
    _answered: dict[str, float] = field(default_factory=dict)
    _last: dict[str, float] = field(default_factory=dict)
    _order: int = 0

    def receive(self, commands: list[Command], now: float) -> None:
        for command in commands:
            if command["camera"] in self.breakdown.silent:
                continue  # it never answers
            if now - self._answered.get(command["id"], -1e9) < 5.0:
                continue  # answered a moment ago; the answer is on its way
            self._answered[command["id"]] = now
            self._order += 1
            # a camera handles its commands in the order they came
            due = max(now + self.rng.uniform(*self.delay), self._last.get(command["camera"], 0))
            self._last[command["camera"]] = due
            heapq.heappush(self._due, (due, self._order, command["camera"], command))

    def answers(self, now: float) -> list[tuple[str, dict[str, Any]]]:
        """(camera, status fields) of the commands whose answer is due."""
        out = []
        while self._due and self._due[0][0] <= now:
            _, _, code, command = heapq.heappop(self._due)
            camera = self.state.setdefault(code, _Camera())
            ts = command["ts"]
            if camera.last is None or ts >= camera.last:
                camera.recording = command["action"] == "record"
                camera.audio = camera.recording and command["audio"]
                camera.last = ts
            fields = self.breakdown.status(
                code, recording=camera.recording, audio=camera.audio, command=command["id"]
            )
            if fields is not None:
                out.append((code, fields))
        return out

    @property
    def waiting(self) -> int:
        return len(self._due)


# --- the two ways to casecenter -------------------------------------------------------


class Refused(Exception):
    """casecenter refused the gateway's request (bad token, not a gateway account …)."""


class HttpLink:
    """``POST /api/devices/events`` with a bearer token; commands come in the answers
    and from ``GET /api/devices/commands``."""

    def __init__(self, url: str, token: str, center: str, *, timeout: float = 10.0) -> None:
        self.base = url.rstrip("/")
        self.token, self.center, self.timeout = token, center, timeout

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's
            self.base + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            if 400 <= exc.code < 500:  # our fault: trying again would not help
                raise Refused(f"{exc.code} {exc.read()[:500].decode(errors='replace')}") from None
            raise

    def send(self, events: list[dict[str, Any]]) -> list[Command]:
        commands: list[Command] = []
        for start in range(0, len(events), 1000):
            answer = self._call(
                "POST",
                "/api/devices/events",
                {"center": self.center, "events": events[start : start + 1000]},
            )
            for item in answer["rejected"]:
                log.warning("casecenter refused an event: %s", item)
            commands = answer["commands"]
        return [_command(c) for c in commands]

    def poll(self) -> list[Command]:
        query = urllib.parse.urlencode({"center": self.center})
        return [
            _command(c) for c in self._call("GET", f"/api/devices/commands?{query}")["commands"]
        ]

    def close(self) -> None:
        pass


def _command(raw: dict[str, Any]) -> Command:
    return {**raw, "ts": datetime.fromisoformat(raw["ts"])}


class MqttLink:
    """Publishes each event at QoS 1 on its device's topic; the cameras' commands
    arrive on ``casecenter/v1/{center}/command/+``."""

    def __init__(self, url: str, center: str, client_id: str) -> None:
        self.center = center
        self.inbox: queue.Queue[Command] = queue.Queue()
        self.client, where = broker.make_client(url, client_id)
        self.client.max_inflight_messages_set(100)
        self.subscribed = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = self._on_message
        broker.connect(self.client, where, persistent=True)
        # the cameras listen before the people move, or the first commands pass them by
        if not self.subscribed.wait(15):
            self.close()
            raise ConnectionError(f"could not subscribe to the commands at {url}")

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            client.subscribe(protocol.topic_for(self.center, protocol.COMMAND, "+"), qos=1)

    def _on_message(self, client, userdata, msg) -> None:
        try:
            command = protocol.parse_command(msg.payload)
        except protocol.ProtocolError as exc:
            log.warning("a command the cameras cannot read on %s: %s", msg.topic, exc)
            return
        self.inbox.put({**command, "camera": msg.topic.rsplit("/", 1)[1]})

    def send(self, events: list[dict[str, Any]]) -> list[Command]:
        for event in events:
            fields = {k: v for k, v in event.items() if k not in ("kind", "device")}
            self.client.publish(
                protocol.topic_for(self.center, event["kind"], event["device"]),
                json.dumps(fields, separators=(",", ":")),
                qos=1,
            )
        return self.poll()

    def poll(self) -> list[Command]:
        out = []
        while True:
            try:
                out.append(self.inbox.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# --- the player ------------------------------------------------------------------------


@dataclass
class Played:
    events: int = 0
    answers: int = 0
    commands: int = 0
    failures: int = 0


def play(
    world: World,
    link: HttpLink | MqttLink,
    *,
    seed: int = 0,
    speed: float = 60.0,
    minutes: float = 0.0,
    people: Callable[[], list[Person]] | None = None,
    refresh: float = 5.0,
    tick: float = 0.1,
    stop: threading.Event | None = None,
    now: Callable[[], datetime] | None = None,
    breakdown: Breakdown | None = None,
) -> Played:
    """Send the simulation's steps as their (sped-up) time comes, and answer the
    cameras' commands, until ``minutes`` of simulated time (0: until ``stop``).
    The cameras of ``breakdown`` fail as it says (see ``simulator.Breakdown``).

    Device clocks are the real clock: ``speed`` compresses the day's schedule,
    not time itself, so the events' ``ts`` stay consistent with when casecenter
    receives them. ``people`` (re-read every ``refresh`` seconds) brings new
    stays in and takes those who left out."""
    stop = stop or threading.Event()
    now = now or (lambda: datetime.now().astimezone())
    breakdown = breakdown or Breakdown()
    sim = Simulation(world, seed=seed, breakdown=breakdown)
    cameras = Cameras(random.Random(f"{seed}:cameras"), breakdown=breakdown)
    seqs = Sequences()
    played = Played()
    pending: list = []  # steps generated for a time still to come
    outbox: list[dict[str, Any]] = []  # made, not yet accepted by casecenter
    start = time.monotonic()
    next_refresh = next_poll = start + refresh
    while not stop.is_set():
        wall = time.monotonic()
        sim_now = (wall - start) * speed
        finished = bool(minutes) and sim_now >= minutes * 60
        for step in sim.advance(min(sim_now, minutes * 60) if minutes else sim_now):
            heapq.heappush(pending, step)
        ts = now().isoformat()
        while pending and pending[0].at <= sim_now:
            step = heapq.heappop(pending)
            outbox.append(
                {
                    "kind": step.kind,
                    "device": step.device,
                    "seq": seqs.next(step.device),
                    "ts": ts,
                    **step.payload,
                }
            )
        for camera, fields in cameras.answers(wall):
            outbox.append(
                {"kind": "status", "device": camera, "seq": seqs.next(camera), "ts": ts, **fields}
            )
            played.answers += 1
        try:
            if outbox:
                commands = link.send(outbox)
                played.events += len(outbox)
                outbox = []
            elif wall >= next_poll:
                commands = link.poll()
                next_poll = wall + 1.0
            else:
                commands = []
        except (OSError, urllib.error.URLError, KeyError, ValueError) as exc:
            played.failures += 1
            log.warning("casecenter did not take the events (%s); trying again", exc)
            stop.wait(min(2.0, 0.2 * played.failures))
            continue
        played.commands += len(commands)
        cameras.receive(commands, wall)
        if people is not None and wall >= next_refresh:
            _refresh(sim, people())
            next_refresh = wall + refresh
        if finished and not pending and not outbox and not cameras.waiting:
            break
        stop.wait(tick)
    return played


def _refresh(sim: Simulation, people: list[Person]) -> None:
    present = {p.stay for p in people}
    for stay in list(sim.walkers):
        if stay not in present:
            sim.drop(stay)
    for person in people:
        sim.add(person)
