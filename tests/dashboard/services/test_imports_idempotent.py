"""An import stores its rows once: concurrent starts, the same file twice, re-exported events without ids."""
from __future__ import annotations

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from dashboard.models import Event, ImportBatch, ImportStatus
from dashboard.services.imports import ImportInputError, import_start, import_upload
from tests.factories import CatalogFactory, ProductFactory

MAP = {"shopper": "shopper", "product": "product", "timestamp": "timestamp", "type": "type"}


def events_csv(n: int) -> bytes:
    return ("shopper,product,timestamp,type\n"
            + "".join(f"u{i % 40},P{i % 7},2011-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d},view\n"
                      for i in range(n))).encode()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def catalog_with_products():
    catalog = CatalogFactory()
    for i in range(7):
        ProductFactory(catalog=catalog, external_id=f"P{i}")
    return catalog


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_starts_of_one_import_store_it_once():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent requests need PostgreSQL")
    catalog = catalog_with_products()
    batch = import_upload(catalog=catalog, kind="events", file=SimpleUploadedFile("e.csv", events_csv(1500)))
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def start() -> None:
        mine = ImportBatch.objects.get(pk=batch.pk)  # each request loads the draft itself
        barrier.wait()
        try:
            import_start(batch=mine, mapping=MAP, run_inline=True)
            outcomes.append("started")
        except ImportInputError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes)[0].startswith("This import has already been started"), outcomes
    assert outcomes.count("started") == 1
    assert Event.objects.filter(catalog=catalog).count() == 1500


@pytest.mark.django_db
def test_the_same_file_again_is_refused_naming_the_earlier_import_until_the_operator_insists():
    catalog = catalog_with_products()
    data = events_csv(30)
    first = import_start(batch=import_upload(catalog=catalog, kind="events", file=SimpleUploadedFile("e.csv", data)),
                         mapping=MAP, run_inline=True)
    assert first.status == ImportStatus.SUCCEEDED and len(first.content_sha256) == 64
    again = import_upload(catalog=catalog, kind="events", file=SimpleUploadedFile("copy.csv", data))
    with pytest.raises(ImportInputError, match=f"already imported as import #{first.pk}"):
        import_start(batch=again, mapping=MAP, run_inline=True)
    again.refresh_from_db()
    assert again.status == ImportStatus.DRAFT and Event.objects.filter(catalog=catalog).count() == 30
    import_start(batch=again, mapping=MAP, run_inline=True, allow_same_file=True, natural_key=True)
    assert (again.status, again.rows_imported, again.rows_duplicate) == (ImportStatus.SUCCEEDED, 0, 30)
    assert Event.objects.filter(catalog=catalog).count() == 30


@pytest.mark.django_db
@pytest.mark.parametrize("writer", ["copy", "bulk_create"])
def test_a_reexport_without_event_ids_is_deduplicated_on_the_natural_key(writer, monkeypatch):
    from dashboard.services import import_write

    if writer == "bulk_create":
        monkeypatch.setattr(import_write, "use_copy", lambda: False)
    elif not import_write.use_copy():
        pytest.skip("the COPY path needs PostgreSQL")
    catalog = catalog_with_products()
    import_start(batch=import_upload(catalog=catalog, kind="events", file=SimpleUploadedFile("e.csv", events_csv(90))),
                 mapping=MAP, run_inline=True, natural_key=True)
    # the export again, with ten more recent rows and a different layout (another hash)
    export = events_csv(100).replace(b"shopper,product,timestamp,type", b"shopper,product,timestamp,type")
    export = export.replace(b"\n", b"\r\n")
    second = import_start(batch=import_upload(catalog=catalog, kind="events",
                                              file=SimpleUploadedFile("export.csv", export)),
                          mapping=MAP, run_inline=True, natural_key=True)
    assert (second.rows_imported, second.rows_duplicate) == (10, 90)
    assert Event.objects.filter(catalog=catalog).count() == 100
