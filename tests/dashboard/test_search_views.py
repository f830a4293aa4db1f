"""Search pages: any role previews and reads analytics; only editors change settings; helpful empty states."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from dashboard.models import EventType, SearchSettings
from dashboard.services import search_index
from dashboard.services.search import search_settings_ensure
from tests.dashboard.fusion_data import build_bundle, frames, mirror
from tests.factories import EventFactory


@pytest.fixture(scope="module")
def bundle_folder(tmp_path_factory):
    folder = build_bundle(tmp_path_factory.mktemp("search-views") / "bundle")
    search_index.index_build(bundle=folder, products=frames()[1], attributes={})
    return folder


@pytest.fixture
def served(catalog, bundle_folder):
    search_index.clear_cache()
    mirror(catalog, bundle_folder)
    return catalog


def url(name, catalog, *args):
    return reverse(f"dashboard:{name}", args=[catalog.slug, *args])


def test_a_viewer_opens_the_preview_and_gets_both_lists_as_json(analyst_client, served):
    page = analyst_client.get(url("search_preview", served)).content.decode()
    assert 'id="search-form"' in page and "search.js" in page and "Hybrid" in page and "Keywords only" in page
    hybrid, keywords = search_settings_ensure(catalog=served)
    out = analyst_client.get(url("search_results", served), {"q": "product 7", "a": hybrid.pk, "b": keywords.pk,
                                                             "shopper": "U000", "profile_weight": "1"}).json()
    assert out["a"]["settings"]["name"] == "Hybrid" and out["b"]["settings"]["name"] == "Keywords only"
    assert len(out["a"]["hits"]) == 10 and out["a"]["hits"][0]["signals"]
    assert out["a"]["query"]["tokens"] == ["product", "7"] and out["a"]["shopper"]["personalised"] is True
    assert all("change" in h for h in out["b"]["hits"])


def test_bad_preview_input_is_a_clear_400(analyst_client, served):
    hybrid, keywords = search_settings_ensure(catalog=served)
    empty = analyst_client.get(url("search_results", served), {"q": " ", "a": hybrid.pk, "b": keywords.pk})
    assert empty.status_code == 400 and "query" in empty.json()["error"]
    weight = analyst_client.get(url("search_results", served), {"q": "mug", "a": hybrid.pk, "b": keywords.pk,
                                                                "profile_weight": "99"})
    assert weight.status_code == 400 and "profile_weight" in weight.json()["error"]
    assert analyst_client.get(url("search_results", served), {"q": "mug", "a": 999, "b": 998}).status_code == 404


def test_without_an_index_the_preview_says_train_a_version(merch_client, catalog):
    search_index.clear_cache()
    page = merch_client.get(url("search_preview", catalog)).content.decode()
    assert 'id="search-empty"' in page and "train a version" in page.lower()
    assert url("job_new", catalog) in page and 'id="search-form"' not in page


def test_an_analyst_reads_settings_but_may_not_change_them(analyst_client, catalog):
    hybrid = search_settings_ensure(catalog=catalog)[0]
    assert analyst_client.get(url("search_settings", catalog)).status_code == 200
    assert "Save" not in analyst_client.get(url("search_settings_edit", catalog, hybrid.pk)).content.decode()
    assert analyst_client.post(url("search_settings_edit", catalog, hybrid.pk),
                               {"name": "Hacked", "mode": "bm25"}).status_code == 403
    assert analyst_client.get(url("search_settings_new", catalog)).status_code == 403
    hybrid.refresh_from_db()
    assert hybrid.name == "Hybrid"


def test_an_editor_creates_and_edits_settings_with_errors_named(merch_client, catalog):
    new = merch_client.post(url("search_settings_new", catalog), {
        "name": "Sofa words", "mode": "hybrid", "fusion": "rrf", "lexical_weight": "1", "dense_weight": "2",
        "profile_weight": "0.5", "boost": "1.5", "synonyms": "sofa: couch, settee"})
    assert new.status_code == 302
    saved = SearchSettings.objects.get(catalog=catalog, name="Sofa words")
    assert (saved.mode, saved.fusion, saved.dense_weight, saved.synonyms) == ("hybrid", "rrf", 2.0, "sofa: couch, settee")
    bad = merch_client.post(url("search_settings_edit", catalog, saved.pk), {"name": "Sofa words", "mode": "hybrid",
                                                                          "synonyms": "no colon"})
    assert bad.status_code == 400 and "synonyms, line 1" in bad.content.decode()
    assert 'value="Sofa words"' in bad.content.decode() and ">no colon</textarea>" in bad.content.decode()


def test_analytics_show_an_empty_state_then_queries_and_zero_results(analyst_client, served):
    empty = analyst_client.get(url("search_analytics", served)).content.decode()
    assert 'id="analytics-empty"' in empty
    when = dt.datetime(2012, 1, 5, 10, tzinfo=dt.UTC)
    for query in ("product", "product", "unicorn saddle"):
        EventFactory(catalog=served, type=EventType.SEARCH, product=None, query=query, timestamp=when)
    page = analyst_client.get(url("search_analytics", served)).content.decode()
    assert 'id="top-queries"' in page and 'id="zero-queries"' in page
    top = page.split('id="top-queries"')[1].split("</table>")[0]
    zero = page.split('id="zero-queries"')[1].split("</table>")[0]
    assert top.index("product") < top.index("unicorn saddle")
    assert "unicorn saddle" in zero and ">product<" not in zero
    csv = analyst_client.get(url("search_analytics_csv", served), {"start": "2012-01-01", "end": "2012-01-31"})
    assert csv.content.decode().splitlines()[:2] == [
        "query,searches,shoppers,clicked,click_through,last_searched", "product,2,2,0,0.0000,2012-01-05T10:00:00+00:00"]
    later = analyst_client.get(url("search_analytics", served), {"start": "2012-02-01", "end": "2012-02-02"})
    assert "No searches with a query in this period" in later.content.decode()


PAGES = ["search_preview", "search_results", "search_settings", "search_settings_new", "search_analytics",
         "search_analytics_csv"]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitors_log_in_and_users_without_a_role_are_refused(client, catalog, name):
    from tests.factories import make_user

    assert client.get(url(name, catalog))["Location"].startswith(reverse("login"))
    client.force_login(make_user("nobody", None))
    assert client.get(url(name, catalog)).status_code == 403
