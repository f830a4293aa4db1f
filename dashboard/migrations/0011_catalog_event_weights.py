from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("dashboard", "0010_api"),
    ]

    operations = [
        migrations.AddField(
            model_name="catalog",
            name="event_weights",
            field=models.JSONField(
                blank=True, default=dict,
                help_text="How much each event type counts when training, over the engine's defaults "
                          "(``{type: weight}``; only the types changed are stored).",
                verbose_name="event weights"),
        ),
    ]
