"""The job lifecycle: shared background-job fields (attempts, heartbeat, cancel, outbox stamps) on imports,
training jobs and auto-tunes; imports' content hash, natural-key and unknown-product choices, new statuses."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("dashboard", "0012_experiments"),
    ]

    operations: list = [
        migrations.AddField(
            model_name='autotunerun',
            name='attempts',
            field=models.IntegerField(default=0, verbose_name='attempts'),
        ),
        migrations.AddField(
            model_name='autotunerun',
            name='dispatched_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='autotunerun',
            name='queued_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='importbatch',
            name='attempts',
            field=models.IntegerField(default=0, verbose_name='attempts'),
        ),
        migrations.AddField(
            model_name='importbatch',
            name='cancel_requested',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='importbatch',
            name='celery_task_id',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='importbatch',
            name='content_sha256',
            field=models.CharField(blank=True, db_index=True, max_length=64, verbose_name='content hash'),
        ),
        migrations.AddField(
            model_name='importbatch',
            name='created_products',
            field=models.JSONField(blank=True, default=list, verbose_name='placeholder products created'),
        ),
        migrations.AddField(
            model_name='importbatch',
            name='dispatched_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='importbatch',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='importbatch',
            name='natural_key',
            field=models.BooleanField(default=False, verbose_name='deduplicate events without ids'),
        ),
        migrations.AddField(
            model_name='importbatch',
            name='queued_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='importbatch',
            name='unknown_products',
            field=models.CharField(choices=[('reject', 'reject the row'), ('create', 'create a placeholder product')], default='reject', max_length=16, verbose_name='events for unknown products'),
        ),
        migrations.AddField(
            model_name='trainingjob',
            name='dispatched_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='trainingjob',
            name='queued_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='importbatch',
            name='status',
            field=models.CharField(choices=[('draft', 'awaiting column mapping'), ('queued', 'queued'), ('running', 'running'), ('succeeded', 'succeeded'), ('partial', 'finished with rejected rows'), ('failed', 'failed'), ('cancelled', 'cancelled')], default='queued', max_length=16, verbose_name='status'),
        ),
    ]
