"""Witnessing, both sides of C2SP tlog-witness (docs/witness.md).

* ``WitnessState``: what each HTTP witness of this log has cosigned (the next push's old size).
* ``WitnessedLog``: the logs of other organisations this casecenter witnesses, and the
  latest checkpoint it cosigned of each.
* ``WitnessKey``: this casecenter's cosigning key as a witness, encrypted at rest.
"""

import hashlib

import casecenter.privacy.fields
from django.db import migrations, models

EMPTY_ROOT = hashlib.sha256(b"").digest()


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0004_transparency_log'),
    ]

    operations = [
        migrations.CreateModel(
            name='WitnessKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=200, unique=True, verbose_name='name')),
                ('key_hash', models.CharField(max_length=8, verbose_name='key hash')),
                ('public_key', models.CharField(max_length=64, verbose_name='public key')),
                ('private_key', casecenter.privacy.fields.EncryptedTextField(context='audit.witness_key.private')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
            ],
            options={
                'verbose_name': 'witness key',
            },
        ),
        migrations.CreateModel(
            name='WitnessedLog',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('origin', models.CharField(max_length=255, unique=True, verbose_name='origin')),
                ('verifier_keys', models.TextField(verbose_name='verifier keys')),
                ('size', models.BigIntegerField(default=0, verbose_name='cosigned size')),
                ('root', models.BinaryField(default=EMPTY_ROOT, max_length=32, verbose_name='cosigned root')),
                ('checkpoint', models.TextField(blank=True, verbose_name='latest cosigned checkpoint')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
            ],
            options={
                'verbose_name': 'witnessed log',
                'ordering': ['origin'],
                'constraints': [models.CheckConstraint(condition=models.Q(('size__gte', 0)), name='audit_witnessed_size_gte_0')],
            },
        ),
        migrations.CreateModel(
            name='WitnessState',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('url', models.CharField(max_length=500, unique=True, verbose_name='witness URL')),
                ('size', models.BigIntegerField(default=0, verbose_name='cosigned size')),
                ('cosignature', models.TextField(blank=True, verbose_name='cosignature')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
            ],
            options={
                'verbose_name': 'witness state',
                'constraints': [models.CheckConstraint(condition=models.Q(('size__gte', 0)), name='audit_witness_size_gte_0')],
            },
        ),
    ]
