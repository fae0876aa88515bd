"""The sync epoch (issue 9): which database the sync_txid stamps belong to,
so that a restore into another cluster or database is noticed (see rcf.sync)."""

from django.db import migrations, models

from rcf.sync import install_sync_epoch


class Migration(migrations.Migration):
    dependencies = [("rcf", "0003_apitoken")]
    operations = [
        migrations.CreateModel(
            name="SyncEpoch",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("epoch", models.PositiveIntegerField(default=1, verbose_name="epoch")),
                ("system_identifier", models.BigIntegerField(blank=True, null=True,
                                                             verbose_name="system identifier")),
                ("database_oid", models.BigIntegerField(blank=True, null=True, verbose_name="database OID")),
                ("txid_offset", models.BigIntegerField(default=0, verbose_name="transaction id offset")),
                ("started_at", models.DateTimeField(auto_now_add=True, verbose_name="started at")),
            ],
            options={
                "verbose_name": "sync epoch",
                "constraints": [
                    models.CheckConstraint(condition=models.Q(id=1), name="sync_epoch_single_row"),
                    models.CheckConstraint(condition=models.Q(txid_offset__gte=0),
                                           name="sync_epoch_offset_not_negative"),
                ],
            },
        ),
        install_sync_epoch(),
    ]
