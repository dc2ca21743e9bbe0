"""How casecenter's processes connect to the MQTT broker (``CASECENTER_MQTT_URL``).

``mqtt://host:port`` or ``mqtts://host:port`` (TLS with the system's CAs), with
``user:password@`` if the broker wants them. Every client speaks MQTT 5 and
reconnects by itself (paho's network thread) after the broker went away.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True)
class BrokerUrl:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"not an MQTT URL (mqtt://host:port or mqtts://…): {url!r}")
        return cls(
            host=parts.hostname,
            port=parts.port or DEFAULT_PORTS[parts.scheme],
            tls=parts.scheme == "mqtts",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def make_client(
    url: str, client_id: str, *, manual_ack: bool = False
) -> tuple[mqtt.Client, BrokerUrl]:
    """A paho client for ``url`` (not yet connected)."""
    broker = BrokerUrl.parse(url)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=manual_ack,
    )
    if broker.tls:
        client.tls_set()
    if broker.username is not None:
        client.username_pw_set(broker.username, broker.password)
    client.reconnect_delay_set(min_delay=1, max_delay=4)
    client.max_queued_messages_set(0)  # QoS 1 publications wait (unlimited) while disconnected
    return client, broker


def connect(
    client: mqtt.Client,
    broker: BrokerUrl,
    *,
    persistent: bool,
    session_expiry: int = 7 * 86_400,
    receive_maximum: int | None = None,
    keepalive: int = 15,
) -> None:
    """Connect in the background (``loop_start`` then keeps reconnecting).

    A persistent session (MQTT 5: clean start off and a session expiry) makes
    the broker keep the subscriptions and queue QoS 1 messages while the
    client is away; without an expiry an MQTT 5 session ends at disconnection.
    """
    props = Properties(PacketTypes.CONNECT)
    if persistent:
        props.SessionExpiryInterval = session_expiry
    if receive_maximum:
        props.ReceiveMaximum = receive_maximum
    client.connect_async(
        broker.host, broker.port, keepalive=keepalive, clean_start=not persistent, properties=props
    )
    client.loop_start()
