"""An import and ``python -m mlcore`` read a file the same way: one reader, one set of rules."""
from __future__ import annotations

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboard.models import Event, ImportStatus
from dashboard.services.imports import import_start, import_upload
from mlcore.data.files import read_events
from tests.factories import CatalogFactory

pytestmark = pytest.mark.django_db

ISO = ("user_id,item_id,title,timestamp,type,quantity\n"
       "u1,A1,Red mug,2011-10-01 08:26:00,purchase,2\n"
       "u1,A2,Blue plate,2011-10-01T09:00:00Z,view,\n"
       "u2,A1,Red mug,2011-10-02 10:15:30,Add to cart,1\n"
       "u2,A2,Blue plate,2011-10-03 11:00:00,purchase,-1\n")
EPOCH_S = ISO.replace("2011-10-01 08:26:00", "1317457560").replace("2011-10-01T09:00:00Z", "1317459600") \
    .replace("2011-10-02 10:15:30", "1317550530").replace("2011-10-03 11:00:00", "1317639600")
EPOCH_MS = ISO.replace("2011-10-01 08:26:00", "1317457560000").replace("2011-10-01T09:00:00Z", "1317459600000") \
    .replace("2011-10-02 10:15:30", "1317550530000").replace("2011-10-03 11:00:00", "1317639600000")
MAPPING = {"user_id": "shopper", "item_id": "product", "title": "title", "timestamp": "timestamp",
           "type": "type", "quantity": "quantity"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def imported(text: str) -> pd.DataFrame:
    catalog = CatalogFactory()
    batch = import_upload(catalog=catalog, kind="events", file=SimpleUploadedFile("events.csv", text.encode()))
    batch = import_start(batch=batch, mapping=MAPPING, run_inline=True, unknown_products="create")
    assert batch.status == ImportStatus.SUCCEEDED, batch.error_message
    rows = Event.objects.filter(catalog=catalog).order_by("timestamp").values_list(
        "shopper__external_id", "product__external_id", "timestamp", "type", "quantity")
    frame = pd.DataFrame(list(rows), columns=["user_id", "item_id", "timestamp", "type", "quantity"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).astype("datetime64[ns, UTC]")
    return frame


def read(text: str, tmp_path) -> pd.DataFrame:
    path = tmp_path / "events.csv"
    path.write_text(text)
    return read_events(path)[["user_id", "item_id", "timestamp", "type", "quantity"]]


def test_iso_and_unix_seconds_and_milliseconds_files_give_the_same_events_to_the_engine_and_the_importer(tmp_path):
    engine = read(ISO, tmp_path)
    assert engine["type"].tolist() == ["purchase", "view", "add_to_cart", "return"]
    assert engine["quantity"].tolist() == [2, 1, 1, 1]
    for text in (ISO, EPOCH_S, EPOCH_MS):
        pd.testing.assert_frame_equal(read(text, tmp_path), engine)
        pd.testing.assert_frame_equal(imported(text), engine, check_dtype=False)
