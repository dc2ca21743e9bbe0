"""Each record keeps its own Person row; break-glass grants are reviewed.

Until now one Person row per ID number was shared by every case (and incident)
that named the number: adding a party by ID number showed the name another
station had recorded and overwrote the phone another case's notifications and
public page used. This migration gives every party and every incident reporter
its own copy of the row it pointed to (the first keeps the original), and makes
the ID number's blind index a plain index: the same real person is the same
index, nothing more.
"""

from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion

COPIED = (
    "name",
    "id_number",
    "id_number_index",
    "id_number_masked",
    "birth_date",
    "sex",
    "phone",
    "email",
)


def one_row_per_record(apps, schema_editor):
    Person = apps.get_model("cases", "Person")
    Party = apps.get_model("cases", "Party")
    Incident = apps.get_model("incidents", "Incident")
    kept: set[int] = set()

    def own(person_id: int) -> int:
        if person_id not in kept:
            kept.add(person_id)
            return person_id
        person = Person.objects.get(pk=person_id)
        return Person.objects.create(**{f: getattr(person, f) for f in COPIED}).pk

    # incidents first: a reporter row was made for the incident, then shared by its case
    for incident in Incident.objects.filter(reporter__isnull=False).order_by("pk"):
        mine = own(incident.reporter_id)
        if mine != incident.reporter_id:
            Incident.objects.filter(pk=incident.pk).update(reporter_id=mine)
    for party in Party.objects.order_by("pk"):
        mine = own(party.person_id)
        if mine != party.person_id:
            Party.objects.filter(pk=party.pk).update(person_id=mine)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0007_alter_caseevent_kind"),
        ("incidents", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="person",
            name="id_number_index",
            field=models.CharField(db_index=True, editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(one_row_per_record, migrations.RunPython.noop, elidable=False),
        migrations.AlterModelOptions(
            name="accessgrant",
            options={"ordering": ["-granted_at", "-id"]},
        ),
        migrations.AddField(
            model_name="accessgrant",
            name="reviewed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="accessgrant",
            name="reviewed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="accessgrant",
            name="review_note",
            field=models.TextField(blank=True),
        ),
    ]
