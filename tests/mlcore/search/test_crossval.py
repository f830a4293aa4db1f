"""Search settings chosen by cross-validation over queries: folds, the choice, the fold-averaged gain."""
from __future__ import annotations

import numpy as np
import pytest

from mlcore.search.crossval import cross_validate, fixed, inner_score, query_folds

IDS = [f"q{i}" for i in range(20)]


def test_folds_partition_the_queries_the_same_way_every_time():
    folds = query_folds(IDS, 5, seed=3)
    assert sorted(q for f in folds for q in f) == sorted(IDS) and [len(f) for f in folds] == [4] * 5
    assert folds == query_folds(IDS, 5, seed=3) and folds != query_folds(IDS, 5, seed=4)
    with pytest.raises(ValueError, match="folds"):
        query_folds(IDS[:3], 5)


def test_a_setting_that_wins_on_one_fold_only_is_not_chosen_and_the_gain_is_the_fold_mean():
    folds = query_folds(IDS, 5)
    lucky = set(folds[0])
    base = {q: 0.5 for q in IDS}
    steady = {q: 0.55 for q in IDS}  # 1.1x on every query
    spiky = {q: (1.0 if q in lucky else 0.45) for q in IDS}  # the best mean overall, thanks to one fold
    assert np.mean(list(spiky.values())) > np.mean(list(steady.values()))
    report = cross_validate({"bm25": fixed(base), "steady": fixed(steady), "spiky": fixed(spiky)}, folds, "bm25")
    # on the fold that holds the lucky queries, the other four folds prefer steady, and spiky loses
    assert report.chosen[0] == "steady"
    expected = np.mean([report.per_candidate[c][k] / 0.5 for k, c in enumerate(report.chosen)])
    assert report.gain == pytest.approx(expected)
    assert report.candidate_gain("steady") == pytest.approx(1.1) and report.wins("spiky", "steady") == 1
    assert "CV-chosen" in report.format()


def test_a_trained_setting_is_judged_on_queries_it_was_not_trained_on():
    folds = query_folds(IDS, 4)
    calls = []

    def memoriser(train, evaluated):  # perfect on what it saw, useless elsewhere
        calls.append((set(train), set(evaluated)))
        return {q: (1.0 if q in train else 0.0) for q in evaluated}

    assert inner_score(memoriser, folds) == 0.0
    assert all(not (t & e) for t, e in calls)
    report = cross_validate({"bm25": fixed({q: 0.5 for q in IDS}), "memoriser": memoriser}, folds, "bm25")
    assert report.chosen == ["bm25"] * 4 and report.default == "bm25" and report.gain == pytest.approx(1.0)
