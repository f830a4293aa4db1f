from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("dashboard", "0016_learned_fusion"),
    ]

    operations = [
        migrations.AddField(
            model_name="product", name="image_file",
            field=models.CharField(blank=True, max_length=300, verbose_name="image thumbnail"),
        ),
        migrations.AddField(
            model_name="product", name="image_source",
            field=models.URLField(blank=True, max_length=1000, verbose_name="image fetched from"),
        ),
        migrations.AddField(
            model_name="product", name="image_error",
            field=models.CharField(blank=True, max_length=300, verbose_name="image problem"),
        ),
    ]
