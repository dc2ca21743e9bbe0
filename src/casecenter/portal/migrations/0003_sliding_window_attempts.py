# The fixed-window Throttle (one counter per key and window) becomes a sliding
# log of counted attempts (docs/portal.md, "Guessing").

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0002_ratings_messages_notifications"),
    ]

    operations = [
        migrations.DeleteModel(name="Throttle"),
        migrations.CreateModel(
            name="Attempt",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=100)),
                ("at", models.DateTimeField()),
            ],
            options={
                "indexes": [
                    models.Index(fields=["key", "at"], name="attempt_key_at"),
                    models.Index(fields=["at"], name="attempt_at"),
                ],
            },
        ),
    ]
