"""One shopper's data: export as JSON and erase everywhere (dashboard, API, command); retention; private files."""
from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import stat

import pandas as pd
import pytest
import yaml
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from dashboard.models import AuditEntry, Event, EventType, ImportBatch, Impression, Scope, Shopper, TrainingJob
from dashboard.services.access import pseudonym
from dashboard.services.api_tokens import api_token_create
from dashboard.services.privacy import retention_apply, shopper_erase, shopper_export
from dashboard.services.training_snapshot import snapshot_write
from tests.factories import EventFactory, ProductFactory, ShopperFactory

WHO = "U-4711"


@pytest.fixture(autouse=True)
def _folders(settings, tmp_path):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def shop(catalog):
    """``catalog`` with shopper WHO (2 purchases, 1 search, 1 served list), a bystander, a snapshot, uploads."""
    product = ProductFactory(catalog=catalog, external_id="P1")
    who = ShopperFactory(catalog=catalog, external_id=WHO)
    other = ShopperFactory(catalog=catalog, external_id="U-1")
    for shopper in (who, who, other):
        EventFactory(catalog=catalog, shopper=shopper, product=product)
    Event.objects.create(catalog=catalog, shopper=who, type=EventType.SEARCH, query="red teapot",
                         timestamp=dt.datetime(2011, 6, 2, tzinfo=dt.UTC))
    Impression.objects.create(catalog=catalog, surface="home", shopper_id=WHO, items=["P1"])
    job = TrainingJob.objects.create(catalog=catalog, params={"signals": ["popularity"]})
    from django.conf import settings

    snapshot_write(catalog=catalog, folder=settings.ARTIFACTS_DIR / "jobs" / str(job.pk))
    mentions = ImportBatch(catalog=catalog, kind="events", status="succeeded", original_name="a.csv.gz")
    mentions.file.save("a.csv.gz", ContentFile(gzip.compress(f"user,item\n{WHO},P1\nU-1,P1\n".encode())))
    clean = ImportBatch(catalog=catalog, kind="events", status="succeeded", original_name="b.csv")
    clean.file.save("b.csv", ContentFile(f"user,item\n{WHO}9,P1\nU-1,P1\n".encode()))  # a longer id only
    return catalog, job, mentions, clean


def test_the_export_holds_events_searches_impressions_and_profile(shop):
    catalog, *_ = shop
    data = shopper_export(catalog=catalog, external_id=WHO)
    assert data["shopper"]["id"] == WHO
    assert len(data["events"]) == 3 and data["searches"] == [{"query": "red teapot",
                                                              "timestamp": "2011-06-02T00:00:00+00:00"}]
    assert data["impressions"][0]["items"] == ["P1"] and "profile" in data
    json.dumps(data)  # JSON-ready


def test_erasing_removes_the_shopper_everywhere_and_only_them(shop):
    catalog, job, mentions, clean = shop
    from django.conf import settings

    counts = shopper_erase(catalog=catalog, external_id=WHO)
    assert counts["shopper"] == 1 and counts["events"] == 3 and counts["impressions"] == 1
    assert not Shopper.objects.filter(external_id=WHO).exists() and Shopper.objects.filter(external_id="U-1").exists()
    assert not Event.objects.filter(shopper__external_id=WHO).exists() and Event.objects.count() == 1
    assert not Impression.objects.filter(shopper_id=WHO).exists()
    folder = settings.ARTIFACTS_DIR / "jobs" / str(job.pk)
    events = pd.read_parquet(folder / "events.parquet")
    assert WHO not in set(events["user_id"]) and "U-1" in set(events["user_id"])
    assert WHO not in set(pd.read_parquet(folder / "searches.parquet")["user_id"])
    assert stat.S_IMODE(os.stat(folder / "events.parquet").st_mode) == 0o600
    mentions.refresh_from_db()
    clean.refresh_from_db()
    assert not mentions.file and clean.file and os.path.exists(clean.file.path)
    entry = AuditEntry.objects.get(action="shopper.erase")
    assert entry.target == pseudonym(catalog.pk, WHO) and WHO not in json.dumps(entry.detail) + entry.target


def test_the_dashboard_erases_only_for_admins_after_typing_the_id(client, shop, admin_user, merchandiser):
    catalog, *_ = shop
    pk = Shopper.objects.get(external_id=WHO).pk
    url = reverse("dashboard:shopper_erase", kwargs={"catalog": catalog.slug, "pk": pk})
    client.force_login(merchandiser)
    assert client.post(url, {"confirm": WHO}).status_code == 403
    client.force_login(admin_user)
    assert WHO in client.get(url).content.decode()
    assert client.post(url, {"confirm": "wrong"}).status_code == 400
    assert Shopper.objects.filter(external_id=WHO).exists()
    assert client.post(url, {"confirm": WHO}).status_code == 302
    assert not Shopper.objects.filter(external_id=WHO).exists()
    assert AuditEntry.objects.get(action="shopper.erase").actor == admin_user


def test_the_dashboard_export_is_a_json_download_for_admins(client, shop, admin_user, analyst):
    catalog, *_ = shop
    pk = Shopper.objects.get(external_id=WHO).pk
    url = reverse("dashboard:shopper_export", kwargs={"catalog": catalog.slug, "pk": pk})
    client.force_login(analyst)
    assert client.get(url).status_code == 403
    client.force_login(admin_user)
    response = client.get(url)
    assert response["Content-Type"].startswith("application/json")
    assert json.loads(response.content)["shopper"]["id"] == WHO


def test_the_api_exports_and_erases_with_catalog_write(shop):
    catalog, *_ = shop
    url = f"/api/v1/catalogs/{catalog.slug}/shoppers/{WHO}/data"
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION="Bearer " + api_token_create(
        name="r", kind="secret", scopes=[Scope.RECOMMENDATIONS_READ], catalogs=[catalog])[1])
    assert reader.delete(url).status_code == 403
    writer = APIClient()
    writer.credentials(HTTP_AUTHORIZATION="Bearer " + api_token_create(
        name="w", kind="secret", scopes=[Scope.CATALOG_WRITE], catalogs=[catalog])[1])
    assert writer.get(url).json()["shopper"]["id"] == WHO
    assert writer.delete(url).json()["erased"]["events"] == 3
    assert writer.get(url).status_code == 404
    paths = yaml.safe_load(APIClient().get("/api/v1/schema/").content)["paths"]
    assert {"get", "delete"} <= set(paths["/api/v1/catalogs/{slug}/shoppers/{shopper_id}/data"])


def test_the_command_exports_then_erases(shop, tmp_path):
    catalog, *_ = shop
    out = tmp_path / "who.json"
    call_command("erase_shopper", WHO, "--catalog", catalog.slug, "--export", str(out), "--yes")
    assert json.loads(out.read_text())["shopper"]["id"] == WHO
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert not Shopper.objects.filter(external_id=WHO).exists()


def test_the_retention_period_deletes_old_events_and_uploads(shop):
    catalog, _job, mentions, _clean = shop
    assert retention_apply(days=0) == {"events": 0, "upload_files": 0}
    counts = retention_apply(days=30, now=dt.datetime(2011, 7, 15, tzinfo=dt.UTC))  # events are from June 2011
    assert counts["events"] == 4 and Event.objects.count() == 0
    assert counts["upload_files"] == 0  # the uploads are from today
    counts = retention_apply(days=30, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=60))
    mentions.refresh_from_db()
    assert counts["upload_files"] == 2 and not mentions.file


def test_uploaded_files_are_private(shop):
    _catalog, _job, mentions, _clean = shop
    assert stat.S_IMODE(os.stat(mentions.file.path).st_mode) == 0o600
