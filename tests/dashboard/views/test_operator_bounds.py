"""Bounds on operator-set numbers, and no filesystem paths from forms."""
from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.models import TrainingJob
from dashboard.selectors.training import signal_forms
from dashboard.services.training import TrainingInputError, training_job_start
from tests.dashboard.fusion_data import editor_form
from tests.factories import EventFactory


def test_a_huge_exclude_recent_window_is_a_clear_400_not_a_500(analyst_client, catalog, fusion_config):
    url = reverse("dashboard:fusion_preview", args=[catalog.slug])
    response = analyst_client.post(url, editor_form(config=str(fusion_config.pk), shopper="U000",
                                                    rule_kind=["exclude_recent"], rule_days=["100000000000"]))
    assert response.status_code == 400 and "days" in response.json()["error"]


@pytest.mark.parametrize(("configs", "split", "named"), [
    ({"ease": {"l2": 1e15}}, None, "ease · l2"),
    ({"ease": {"neighbours": 10**9}}, None, "ease · neighbours"),
    ({"ease": {"half_life_days": float("nan")}}, None, "ease · half_life_days"),
    ({}, {"kind": "temporal", "test_days": 10**8}, "split · test_days"),
])
def test_unbounded_training_numbers_are_refused_by_name(catalog, configs, split, named):
    EventFactory(catalog=catalog)
    params = {"signals": ["ease"], "configs": configs, **({"split": split} if split else {})}
    with pytest.raises(TrainingInputError, match=named):
        training_job_start(catalog=catalog, params=params)
    assert not TrainingJob.objects.exists()


@pytest.mark.parametrize("configs", [{"text": {"model": "/etc"}}, {"text": {"cache_dir": "/tmp/x"}},
                                     {"sequential": {"text_model": "../../models/x"}}])
def test_no_filesystem_path_reaches_a_job(catalog, configs):
    EventFactory(catalog=catalog)
    with pytest.raises(TrainingInputError, match="server"):
        training_job_start(catalog=catalog, params={"signals": list(configs), "configs": configs})


def test_the_launch_form_offers_the_servers_models_and_no_folder(settings):
    settings.TEXT_MODELS = ("/srv/models/multilingual-e5",)
    text = next(f for f in signal_forms() if f.name == "text")
    fields = {f.name: f for f in text.fields}
    assert "cache_dir" not in fields
    assert fields["model"].kind == "choice" and fields["model"].choices == ("", "/srv/models/multilingual-e5")


def test_the_launch_page_names_a_bad_number(merch_client, catalog):
    EventFactory(catalog=catalog)
    page = merch_client.post(reverse("dashboard:job_new", args=[catalog.slug]),
                             {"signal": ["ease"], "cfg-ease-l2": "1e18"})
    assert page.status_code == 200 and "ease · l2" in page.content.decode()
    assert not TrainingJob.objects.exists()


def test_rule_numbers_have_upper_bounds():
    from mlcore.fusion.rules import Boost, ExcludeRecent, Pin

    for make in (lambda: Boost("brand", "Acme", 1e9), lambda: Pin("P1", 10**9), lambda: ExcludeRecent(days=10**6)):
        with pytest.raises(ValueError, match="at most|to 3650"):
            make()
