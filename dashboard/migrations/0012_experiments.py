import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import dashboard.models.experiments


class Migration(migrations.Migration):

    dependencies = [
        ("dashboard", "0011_catalog_event_weights"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Experiment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=200, verbose_name='name')),
                ('key', models.SlugField(help_text="Names the experiment in the API's variant field (key:variant).", max_length=60, verbose_name='key')),
                ('surface', models.CharField(choices=[('recommendations', 'recommendations'), ('search', 'search'), ('similar', 'similar items'), ('complementary', 'complementary items')], default='recommendations', max_length=20, verbose_name='surface')),
                ('state', models.CharField(choices=[('draft', 'draft'), ('running', 'running'), ('stopped', 'stopped'), ('shipped', 'shipped')], default='draft', max_length=10, verbose_name='state')),
                ('salt', models.CharField(default=dashboard.models.experiments.new_salt, editable=False, max_length=32)),
                ('holdout_percent', models.FloatField(default=0.0, validators=[django.core.validators.MinValueValidator(0.0), django.core.validators.MaxValueValidator(99.0)], verbose_name='hold-out (%)')),
                ('primary_metric', models.CharField(choices=[('ctr', 'click-through rate'), ('conversion', 'conversion rate'), ('revenue', 'revenue per shopper')], default='ctr', max_length=12, verbose_name='primary metric')),
                ('guardrails', models.JSONField(blank=True, default=list, verbose_name='guardrail metrics')),
                ('guardrail_tolerance', models.FloatField(default=0.02, verbose_name='guardrail tolerance')),
                ('mde', models.FloatField(default=0.05, verbose_name='minimum detectable effect')),
                ('baseline', models.FloatField(default=0.05, verbose_name='expected control value')),
                ('alpha', models.FloatField(default=0.05, verbose_name='significance level')),
                ('power', models.FloatField(default=0.8, verbose_name='power')),
                ('sample_size', models.PositiveIntegerField(default=0, verbose_name='shoppers per variant')),
                ('attribution_hours', models.PositiveIntegerField(default=24, verbose_name='attribution window (hours)')),
                ('starts_at', models.DateTimeField(blank=True, null=True, verbose_name='planned start')),
                ('ends_at', models.DateTimeField(blank=True, null=True, verbose_name='planned end')),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('stopped_at', models.DateTimeField(blank=True, null=True)),
                ('shipped_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('catalog', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='experiments', to='dashboard.catalog')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'experiment',
                'verbose_name_plural': 'experiments',
                'ordering': ['catalog', '-created_at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='Variant',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=40, verbose_name='name')),
                ('is_control', models.BooleanField(default=False, verbose_name='control')),
                ('allocation', models.FloatField(validators=[django.core.validators.MinValueValidator(0.0), django.core.validators.MaxValueValidator(100.0)], verbose_name='traffic (%)')),
                ('position', models.PositiveSmallIntegerField(default=0)),
                ('experiment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='variants', to='dashboard.experiment')),
                ('fusion_config', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.RESTRICT, related_name='+', to='dashboard.fusionconfig', verbose_name='fusion config')),
                ('model_version', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.RESTRICT, related_name='+', to='dashboard.modelversion', verbose_name='model version')),
                ('search_settings', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.RESTRICT, related_name='+', to='dashboard.searchsettings', verbose_name='search settings')),
            ],
            options={
                'verbose_name': 'variant',
                'verbose_name_plural': 'variants',
                'ordering': ['experiment', 'position', 'pk'],
            },
        ),
        migrations.AddField(
            model_name='experiment',
            name='shipped_variant',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='dashboard.variant'),
        ),
        migrations.AddConstraint(
            model_name='variant',
            constraint=models.UniqueConstraint(fields=('experiment', 'name'), name='variant_unique_name'),
        ),
        migrations.AddConstraint(
            model_name='experiment',
            constraint=models.UniqueConstraint(fields=('catalog', 'key'), name='experiment_unique_key'),
        ),
        migrations.AddConstraint(
            model_name='experiment',
            constraint=models.UniqueConstraint(condition=models.Q(('state', 'running')), fields=('catalog', 'surface'), name='experiment_one_running_per_surface'),
        ),
    ]
