"""Clocks of an organisation's own records (no police case): ``case`` may be empty,
``organisation`` says whose clock it is (filled from the case for existing rows)."""

import django.db.models.deletion
from django.db import migrations, models


def fill_organisation(apps, schema_editor):
    Deadline = apps.get_model("supervision", "Deadline")
    Case = apps.get_model("cases", "Case")
    for case_id, organisation_id in Case.objects.filter(
        pk__in=Deadline.objects.values("case_id")
    ).values_list("pk", "organisation_id"):
        Deadline.objects.filter(case_id=case_id).update(organisation_id=organisation_id)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("cases", "0001_initial"),
        ("supervision", "0005_rule_params"),
    ]

    operations = [
        migrations.AddField(
            model_name="deadline",
            name="organisation",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deadlines",
                to="accounts.organisation",
            ),
        ),
        migrations.AddField(
            model_name="deadline",
            name="reference",
            field=models.CharField(blank=True, max_length=60),
        ),
        migrations.RunPython(fill_organisation, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="deadline",
            name="organisation",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deadlines",
                to="accounts.organisation",
            ),
        ),
        migrations.AlterField(
            model_name="deadline",
            name="case",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deadlines",
                to="cases.case",
            ),
        ),
        migrations.AddConstraint(
            model_name="deadline",
            constraint=models.CheckConstraint(
                condition=models.Q(("case__isnull", True), ("subject", ""), _negated=True),
                name="deadline_has_a_subject",
            ),
        ),
    ]
