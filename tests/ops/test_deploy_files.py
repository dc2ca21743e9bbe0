"""The deployment files in deploy/ say what the code does: every command and flag a
unit or the image runs exists, every variable of the example settings is one the
code reads and the ones production must set are there, the proxy's paths are
routed and its headers are the ones the settings believe.

Fast and offline; ``nginx -t``, ``caddy validate`` and ``systemd-analyze verify``
run where those programs are installed (``apt-get install nginx-light caddy
systemd``), else skip.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class
from django.core.management.base import CommandError
from django.urls import resolve

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
ENV_FILE = DEPLOY / "casecenter.env"
NGINX = DEPLOY / "nginx" / "casecenter.conf"
CADDYFILE = DEPLOY / "caddy" / "Caddyfile"
CONTAINERFILE = DEPLOY / "Containerfile"

#: what a site of several nodes cannot leave to the embedded defaults: the database,
#: keys identical on every node (generated ones would differ per node), the name and
#: TLS behind the proxy, the log's origin, shared dossier files, the message buses
MUST_SET = {
    "DATABASE_URL",
    "SECRET_KEY",
    "CASECENTER_FIELD_KEYS",
    "CASECENTER_INDEX_KEY",
    "CASECENTER_DATA_DIR",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "CASECENTER_PUBLIC_URL",
    "CASECENTER_HTTPS",
    "SECURE_COOKIES",
    "CASECENTER_TRUSTED_PROXIES",
    "CASECENTER_METRICS_ALLOWED_NETWORKS",
    "CASECENTER_LOG_FORMAT",
    "CASECENTER_AUDIT_ORIGIN",
    "CASECENTER_AUDIT_WITNESSES",
    "CASECENTER_MQTT_URL",
    "CASECENTER_MQTT_SHARE_GROUP",
    "CASECENTER_NATS_URL",
    "CASECENTER_NATS_SUBJECT_PREFIX",
    "CASECENTER_DOSSIER_STORAGE",
    "CASECENTER_DOSSIER_STORAGE_OPTIONS",
    "CASECENTER_DB_POOL_SIZE",
    "EMAIL_BACKEND",
}
#: the same in every unit: an unprivileged user and systemd's sandbox
HARDENING = {
    "User": ["casecenter"],
    "NoNewPrivileges": ["yes"],
    "CapabilityBoundingSet": [""],
    "AmbientCapabilities": [""],
    "PrivateTmp": ["yes"],
    "PrivateDevices": ["yes"],
    "ProtectSystem": ["strict"],
    "ProtectHome": ["yes"],
    "ProtectKernelTunables": ["yes"],
    "ProtectKernelModules": ["yes"],
    "ProtectControlGroups": ["yes"],
    "RestrictAddressFamilies": ["AF_UNIX AF_INET AF_INET6"],
    "RestrictNamespaces": ["yes"],
    "RestrictSUIDSGID": ["yes"],
    "LockPersonality": ["yes"],
    "SystemCallArchitectures": ["native"],
    "SystemCallFilter": ["@system-service", "~@privileged @resources"],
}


# --- reading the files -------------------------------------------------------------


def unit_service(path: Path) -> dict[str, list[str]]:
    """The [Service] section of a unit: each key with all its values, in order."""
    section, values = None, {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service":
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def unit_argv(path: Path) -> list[str]:
    """ExecStart as argv, with the systemd specifiers it uses filled in."""
    (command,) = unit_service(path)["ExecStart"]
    argv = shlex.split(command.replace("%l", "node1").replace("%%", "%"))
    assert "%" not in " ".join(argv), f"{path.name}: a specifier this test does not know"
    return argv


def env_entries(path: Path = ENV_FILE) -> tuple[dict[str, str], set[str]]:
    """The example's set variables ("NAME=value") and its optional ones ("#NAME=value")."""
    active, optional = {}, set()
    for line in path.read_text().splitlines():
        if match := re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line):
            active[match[1]] = match[2]
        elif match := re.fullmatch(r"#([A-Z][A-Z0-9_]*)=.*", line):
            optional.add(match[1])
    return active, optional


def variables_the_code_reads() -> set[str]:
    pattern = re.compile(
        r"""(?:os\.environ\.get\(|os\.environ\[|_env_bool\()\s*["']([A-Z][A-Z0-9_]*)["']"""
    )
    names = set()
    for source in (ROOT / "src" / "casecenter").rglob("*.py"):
        names.update(pattern.findall(source.read_text()))
    return names


def parse_command(argv: list[str]):
    """``casecenter <command> <flags>`` through the command's own parser (CommandError if wrong)."""
    name, *flags = argv
    commands = get_commands()
    if name not in commands:
        raise CommandError(f"no command {name!r}")
    return (
        load_command_class(commands[name], name).create_parser("casecenter", name).parse_args(flags)
    )


def containerfile() -> dict[str, str]:
    """Each instruction of the final stage with its (joined) arguments, the last one wins."""
    text = CONTAINERFILE.read_text().replace("\\\n", " ")
    final = text[text.rindex("\nFROM ") :]
    instructions = {}
    for line in final.splitlines():
        if line.strip() and not line.startswith("#"):
            word, _, rest = line.strip().partition(" ")
            instructions[word] = rest.strip()
    return instructions


def nginx_locations() -> list[str]:
    return re.findall(r"^\s*location\s+(?:=\s*)?(\S+)\s*\{", NGINX.read_text(), re.MULTILINE)


@pytest.fixture(scope="module")
def example_settings(tmp_path_factory) -> dict:
    """The settings a process gets from the example file, loaded the way the operations
    guide says a shell loads it (``set -a; . file``), in a fresh interpreter."""
    probe = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "print(json.dumps({'proxy_ssl_header': s.SECURE_PROXY_SSL_HEADER,"
        " 'secure_cookies': s.SESSION_COOKIE_SECURE, 'hsts': s.SECURE_HSTS_SECONDS,"
        " 'engine': s.DATABASES['default']['ENGINE'], 'trusted': s.CASECENTER_TRUSTED_PROXIES,"
        " 'log_formatter': s.LOGGING['handlers']['console']['formatter'],"
        " 'dossiers': s.STORAGES['dossiers'], 'debug': s.DEBUG,"
        " 'witnesses': s.CASECENTER_AUDIT_WITNESSES, 'origin': s.CASECENTER_AUDIT_ORIGIN}))"
    )
    data_dir = str(tmp_path_factory.mktemp("data"))
    script = 'set -a; . "$1"; set +a; CASECENTER_DATA_DIR="$2"; exec "$3" -c "$4"'
    result = subprocess.run(  # noqa: S603 - fixed arguments
        ["/bin/sh", "-c", script, "sh", str(ENV_FILE), data_dir, sys.executable, probe],
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "casecenter.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def write_self_signed(folder: Path) -> None:
    """casecenter.crt and casecenter.key in ``folder``: a day's self-signed certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "casecenter.test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (folder / "casecenter.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "casecenter.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def run_tool(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """A checker of the files (nginx, caddy, systemd-analyze): its exit status and output."""
    return subprocess.run(  # noqa: S603 - fixed arguments
        argv, capture_output=True, text=True, timeout=60, env=env
    )


# --- systemd units -------------------------------------------------------------------


def test_the_units_are_the_four_processes_of_a_site():
    assert [u.name for u in UNITS] == [
        "casecenter-ingester.service",
        "casecenter-outbox-relay.service",
        "casecenter-web.service",
        "casecenter-worker.service",
    ]


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.stem)
def test_each_unit_runs_a_casecenter_command_with_flags_it_has(unit):
    argv = unit_argv(unit)
    assert argv[0] == "/opt/casecenter/bin/casecenter"
    parse_command(argv[1:])  # CommandError for a missing command, flag or a bad value


def test_a_flag_the_command_lacks_is_caught():
    with pytest.raises(CommandError, match="--drain-secs"):
        parse_command(["serve", "--drain-secs", "20"])
    with pytest.raises(CommandError):
        parse_command(["outbox", "relay", "--forever"])
    with pytest.raises(CommandError):
        parse_command(["sequencer"])


def test_each_unit_runs_the_command_its_name_says():
    commands = {u.stem: unit_argv(u)[1:3] for u in UNITS}
    assert commands["casecenter-web"][0] == "serve"
    assert commands["casecenter-worker"][0] == "worker"
    assert commands["casecenter-ingester"][0] == "ingest"
    assert commands["casecenter-outbox-relay"] == ["outbox", "relay"]


def test_the_web_unit_waits_longer_than_serve_drains():
    unit = DEPLOY / "systemd" / "casecenter-web.service"
    options = parse_command(unit_argv(unit)[1:])
    service = unit_service(unit)
    assert float(service["TimeoutStopSec"][0]) > options.drain_seconds
    assert service["KillSignal"] == ["SIGTERM"]
    assert service["KillMode"] == ["mixed"]  # the parent closes the socket before its workers stop


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.stem)
def test_each_unit_is_sandboxed_reads_the_site_settings_and_can_write_the_data_folder(unit):
    service = unit_service(unit)
    for key, values in HARDENING.items():
        assert service.get(key) == values, f"{unit.name}: {key}"
    assert service["EnvironmentFile"] == ["/etc/casecenter/casecenter.env"]
    assert service["Restart"] == ["always"]  # a long-running process never ends on its own
    assert service["KillSignal"] == ["SIGTERM"]
    data_dir = env_entries()[0]["CASECENTER_DATA_DIR"]
    writable = " ".join(service.get("ReadWritePaths", [])).split()
    assert data_dir in writable
    assert "casecenter" in service["StateDirectory"]  # /var/lib/casecenter, owned by the user


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_accepts_the_units(tmp_path):
    # the units name the installed path; here the test's own casecenter stands in for it
    here = str(Path(sys.executable).parent / "casecenter")
    for path in [*UNITS, DEPLOY / "systemd" / "casecenter.target"]:
        text = path.read_text().replace("/opt/casecenter/bin/casecenter", here)
        (tmp_path / path.name).write_text(text)
    result = run_tool("systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.iterdir()))
    assert result.returncode == 0, result.stderr + result.stdout


# --- the example settings ---------------------------------------------------------------


def test_every_variable_of_the_example_settings_is_read_by_the_code():
    active, optional = env_entries()
    unknown = (set(active) | optional) - variables_the_code_reads()
    assert not unknown, f"deploy/casecenter.env names settings nothing reads: {sorted(unknown)}"


def test_the_example_settings_set_what_production_must_set():
    active, _ = env_entries()
    assert not MUST_SET - set(active), sorted(MUST_SET - set(active))
    assert "DEBUG" not in active


def test_the_example_settings_give_a_production_posture(example_settings):
    loaded = example_settings
    assert loaded["proxy_ssl_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert loaded["secure_cookies"] is True
    assert loaded["hsts"] >= 31536000
    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["trusted"] == ["10.0.10.5", "10.0.10.6"]
    assert loaded["log_formatter"] == "json"
    assert loaded["debug"] is False
    assert loaded["dossiers"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert loaded["dossiers"]["OPTIONS"]["bucket_name"] == "casecenter-dossiers"
    assert loaded["witnesses"][0] == "file:///srv/audit-witness"  # quoted: two URLs, one value
    assert loaded["origin"] == "audit.police.example.gov.cn/casecenter"


def test_the_worker_may_write_the_example_witness_folder():
    witnesses = shlex.split(env_entries()[0]["CASECENTER_AUDIT_WITNESSES"])[0].split()
    folders = [w.removeprefix("file://") for w in witnesses if w.startswith("file://")]
    worker = unit_service(DEPLOY / "systemd" / "casecenter-worker.service")
    writable = [p.lstrip("-") for p in " ".join(worker["ReadWritePaths"]).split()]
    assert folders and all(folder in writable for folder in folders)


# --- the reverse proxy ------------------------------------------------------------------


def test_every_path_the_proxy_treats_apart_is_routed():
    views = {}
    for location in nginx_locations():
        probe = location + "add-checkpoint" if location == "/witness/" else location
        views[location] = resolve(probe).func.__module__ + "." + resolve(probe).func.__name__
    assert views == {
        "/": "casecenter.web.views.home",
        "/events/": "casecenter.supervision.views.events",
        "/metrics": "casecenter.ops.scrape.metrics",
        "/readyz": "casecenter.ops.probes.readyz",
        "/witness/": "casecenter.audit.views.add_checkpoint",
    }


def test_the_proxy_sends_the_headers_the_settings_believe(example_settings):
    conf = NGINX.read_text()
    header, value = example_settings["proxy_ssl_header"]
    sent = re.search(r"proxy_set_header\s+(\S+)\s+\$scheme;", conf)[1]
    assert "HTTP_" + sent.upper().replace("-", "_") == header and value == "https"
    assert re.search(r"proxy_set_header\s+X-Forwarded-For\s+\$proxy_add_x_forwarded_for;", conf)
    assert re.search(r"proxy_set_header\s+Host\s+\$host;", conf)
    events = re.search(r"location = /events/ \{(.*?)\}", conf, re.DOTALL)[1]
    assert "proxy_buffering off;" in events and "proxy_read_timeout 1h;" in events


def test_the_proxy_takes_the_largest_dossier_file(settings):
    size = re.search(r"^\s*client_max_body_size\s+(\d+)m;", NGINX.read_text(), re.MULTILINE)[1]
    assert int(size) > settings.CASECENTER_DOSSIER_MAX_MB


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx not installed")
def test_nginx_accepts_the_configuration(tmp_path):
    write_self_signed(tmp_path)
    site = NGINX.read_text().replace("/etc/nginx/tls/", f"{tmp_path}/")
    (tmp_path / "casecenter.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/casecenter.conf;\n}}\n"
    )
    result = run_tool("nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"))
    assert result.returncode == 0, result.stderr


def test_caddy_checks_and_guards_routed_paths(settings):
    conf = CADDYFILE.read_text()
    assert resolve(re.search(r"health_uri (\S+)", conf)[1]).func.__name__ == "healthz"
    operator = re.search(r"@operator path (.+)", conf)[1].split()
    assert {resolve(p).func.__name__ for p in operator} == {"metrics", "readyz"}
    assert resolve("/witness/add-checkpoint").func.__name__ == "add_checkpoint"
    assert "handle /witness/* {" in conf
    sizes = [int(n) for n in re.findall(r"max_size (\d+)MB", conf)]
    assert max(sizes) > settings.CASECENTER_DOSSIER_MAX_MB


@pytest.mark.skipif(not shutil.which("caddy"), reason="caddy not installed")
def test_caddy_accepts_the_configuration(tmp_path):
    write_self_signed(tmp_path)
    site = CADDYFILE.read_text().replace("/etc/caddy/tls/", f"{tmp_path}/")
    (tmp_path / "Caddyfile").write_text(site)
    home = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    config = str(tmp_path / "Caddyfile")
    result = run_tool(
        "caddy",
        "validate",
        "--adapter",
        "caddyfile",
        "--config",
        config,
        env={"PATH": "/usr/bin:/bin", **home},
    )
    assert result.returncode == 0, result.stderr


# --- the container image ----------------------------------------------------------------


def test_the_image_runs_casecenter_and_checks_a_routed_health_path():
    image = containerfile()
    entry, command = json.loads(image["ENTRYPOINT"]), json.loads(image["CMD"])
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert entry == ["casecenter"] and "casecenter" in scripts
    parse_command(command)
    check = re.search(r"http://127\.0\.0\.1:(\d+)(/\S*?)'", image["HEALTHCHECK"])
    assert check[1] == command[command.index("--port") + 1]
    assert resolve(check[2]).func.__name__ == "healthz"
    assert image["USER"] == "casecenter"


def test_the_image_copies_what_exists():
    copies = re.findall(r"^COPY (?!--from)(.+)$", CONTAINERFILE.read_text(), re.MULTILINE)
    sources = [s for line in copies for s in line.split()[:-1]]
    assert sources and all((ROOT / s).exists() for s in sources)
