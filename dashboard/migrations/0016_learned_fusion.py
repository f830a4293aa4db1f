from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("dashboard", "0015_online_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="fusionconfig",
            name="mode",
            field=models.CharField(
                choices=[("weighted", "weighted sum of the signals"),
                         ("learned", "learned ranker (falls back to the weights without one)")],
                default="weighted", max_length=16, verbose_name="fusion mode"),
        ),
    ]
