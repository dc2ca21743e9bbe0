"""The multinode test's database: migrated and given a center, in a child process.

    DATABASE_URL=… python -m tests.multinode.world setup

The test's own process stays away from this database through Django (its ORM
is bound to pytest-django's test database); this child, started with the
cluster's environment, migrates it and makes what an administrator would have
made before the day starts: a police station and a case-handling center, the
center's zones and cameras, six wristbands, the officers with passwords, and
the summons clocks tuned to warn nobody early and escalate to nobody, so each
clock that comes due raises exactly one alert (its breach). Prints the ids the
test needs as one line of JSON.
"""

from __future__ import annotations

import json
import sys

CENTER = "mn-zx"
PASSWORD = "multinode-password-1"  # noqa: S105 - a throw-away database
#: (code, kind, cameras)
ZONES = [
    ("reg", "registration", 1),
    ("wait1", "waiting", 1),
    ("wait2", "waiting", 1),
    ("med", "medical", 1),
    ("hall", "corridor", 0),
]
WRISTBANDS = [f"wb-{i:02d}" for i in range(1, 7)]
#: username → (role, organisation): who works the day
PEOPLE = {
    "lead": ("case_officer", "station"),
    "partner": ("case_officer", "station"),
    "desk": ("custody_staff", "center"),
    "medic": ("medical", "center"),
}
#: the clocks a summons opens: one alert each, the breach
QUIET_RULES = ("summons.criminal", "summons.notify_family")


def setup() -> dict:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from casecenter.accounts.models import Organisation, OrganisationKind, Role, User
    from casecenter.custody.models import Camera, Device, Zone
    from casecenter.supervision.models import Rule
    from casecenter.supervision.services import tune_rule

    branch = Organisation.objects.create(
        code="mn-fz", kind=OrganisationKind.LEGAL_AFFAIRS, name="多节点分局法制大队"
    )
    orgs = {  # a station and the center beside it, under one branch
        "station": Organisation.objects.create(
            code="mn-zgc", kind=OrganisationKind.POLICE_STATION, name="多节点派出所", parent=branch
        ),
        "center": Organisation.objects.create(
            code=CENTER,
            kind=OrganisationKind.CASE_CENTER,
            name="多节点执法办案管理中心",
            parent=branch,
        ),
    }
    users = {}
    for username, (role, org) in PEOPLE.items():
        user = User(
            username=username, display_name=username, role=role, organisation=orgs[org], sex="M"
        )
        user.set_password(PASSWORD)
        user.save()
        users[username] = user.pk
    for i, (code, kind, cameras) in enumerate(ZONES):
        zone = Zone.objects.create(
            center=orgs["center"], code=code, name=code, kind=kind, x=i * 10, y=0
        )
        for k in range(1, cameras + 1):
            Camera.objects.create(zone=zone, code=f"{code}-c{k}")
    for code in WRISTBANDS:
        Device.objects.create(center=orgs["center"], code=code, kind="wristband")
    admin = User.objects.create(username="mn-admin", role=Role.ADMIN, organisation=orgs["station"])
    for code in QUIET_RULES:
        tune_rule(admin, Rule.objects.get(code=code), warn_before=None, escalate_after=None)
    return {"users": users}


def main() -> None:
    import django

    django.setup()
    step = sys.argv[1]
    if step != "setup":
        raise SystemExit(f"unknown step {step!r}")
    print(json.dumps(setup()))


if __name__ == "__main__":
    main()
