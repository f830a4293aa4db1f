import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("dashboard", "0014_access_privacy"),
    ]

    operations: list = [
        migrations.CreateModel(
            name="OnlineState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("trending_half_life_hours", models.FloatField(
                    default=6.0, help_text="An event counts half as much for “trending now” after this many hours.",
                    validators=[django.core.validators.MinValueValidator(0.01)],
                    verbose_name="trending half-life (hours)")),
                ("trending_share", models.FloatField(
                    default=0.0, help_text="Weight of the live trending signal in recommendations, as a share of "
                    "the fusion's weights (0: off).", validators=[django.core.validators.MinValueValidator(0.0)],
                    verbose_name="trending share")),
                ("co_occurrence_share", models.FloatField(
                    default=0.3, help_text="Weight of the items often seen with a shopper's latest items, as a "
                    "share of the fusion's weights (0: off).",
                    validators=[django.core.validators.MinValueValidator(0.0)],
                    verbose_name="live co-occurrence share")),
                ("applied_event_id", models.BigIntegerField(default=0)),
                ("events_applied", models.BigIntegerField(default=0)),
                ("last_applied_at", models.DateTimeField(blank=True, null=True)),
                ("lag_ms_p95", models.FloatField(blank=True, null=True)),
                ("pending_since", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.CharField(blank=True, max_length=500)),
                ("rebuilt_at", models.DateTimeField(blank=True, null=True)),
                ("catalog", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE,
                                                 related_name="online_state", to="dashboard.catalog")),
            ],
            options={"verbose_name": "online state", "verbose_name_plural": "online states"},
        ),
    ]
