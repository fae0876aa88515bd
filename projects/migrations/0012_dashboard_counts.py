# Issue 14: the dashboard's summary rows (projects.counts keeps them current). Created empty: the
# existing projects are counted after the whole migration run (projects.apps.count_existing_projects).
import datetime
from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("projects", "0011_search_trigram"), ("scm_reports", "0010_weekly_digest")]

    operations = [
        migrations.CreateModel(
            name="DashboardCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("metric", models.CharField(max_length=8)),
                ("area", models.IntegerField(default=0)),
                ("year", models.IntegerField(default=0)),
                ("side", models.CharField(default="", max_length=5)),
                ("key", models.CharField(default="", max_length=40)),
                ("day", models.DateField(default=datetime.date(1, 1, 1))),
                ("n", models.BigIntegerField(default=0)),
                ("amount", models.DecimalField(decimal_places=2, default=Decimal("0"), max_digits=30)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("metric", "area", "year", "side", "key", "day"),
                                            name="dashboardcount_key"),
                    models.CheckConstraint(condition=models.Q(("n__gte", 0)), name="dashboardcount_n_not_negative"),
                ],
                "indexes": [models.Index(fields=["metric", "area", "year", "day"], name="dashboardcount_day")],
            },
        ),
    ]
