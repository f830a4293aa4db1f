import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Per-catalog memberships (user × catalog × role). Existing users keep their install-wide roles (groups)."""

    dependencies = [
        ("dashboard", "0013_job_lifecycle"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Membership",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("role", models.CharField(choices=[("admin", "admin"), ("merchandiser", "merchandiser"),
                                                   ("analyst", "analyst")], max_length=16, verbose_name="role")),
                ("shopper_ids", models.BooleanField(
                    default=False, help_text="Analysts see pseudonymous shopper ids unless this is set.",
                    verbose_name="sees shopper ids")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("catalog", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="memberships",
                                              to="dashboard.catalog")),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="memberships",
                                           to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "verbose_name": "membership",
                "verbose_name_plural": "memberships",
                "ordering": ["catalog", "user"],
                "permissions": [("view_shopper_ids", "Can see shoppers' storefront ids in every catalog")],
                "constraints": [models.UniqueConstraint(fields=("user", "catalog"),
                                                        name="membership_unique_user_catalog")],
            },
        ),
    ]
