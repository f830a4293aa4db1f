"""recommend() reads the live session through the ``sequential`` signal: the next page follows the last click.

Shoppers walk chains a → b → c, x → y → z, p → q → r (see tests/mlcore/recommenders/test_sequential.py).
"""
import pytest

from mlcore.data import leave_last_out
from mlcore.recommenders.sequential import SequentialConfig
from mlcore.serving.bundle import load_bundle
from mlcore.serving.recommend import recommend
from mlcore.serving.requests import RecommendRequest
from mlcore.training.artifacts import write_bundle
from mlcore.training.runner import RunConfig, SignalSpec, run
from tests.mlcore.recommenders.test_sequential import FAST, chain_data


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    data = chain_data()
    signals = (SignalSpec("sequential", SequentialConfig(**FAST)), SignalSpec("popularity"))
    result = run(data, leave_last_out(data), RunConfig(signals=signals, weights={"sequential": 1.0, "popularity": 0.1},
                                                      learned=False, ablation=False))
    return load_bundle(write_bundle(tmp_path_factory.mktemp("sequential") / "b", result))


def top(bundle, **fields):
    response = recommend(bundle, RecommendRequest(n=3, **fields))
    return response, response.items[0]


def test_a_known_shoppers_latest_click_changes_the_next_page(bundle):
    _r, after_x = top(bundle, shopper="u0", recent_items=("x",))
    _r, after_p = top(bundle, shopper="u0", recent_items=("p",))
    assert after_x.extra["item_id"] == "y" and after_p.extra["item_id"] == "q"
    assert after_x.path == "because you just viewed Item x" and after_x.extra["because_of"] == "x"
    _r, snapshot = top(bundle, shopper="u0")
    assert snapshot.path is None or "just viewed" not in snapshot.path


def test_a_guest_is_shown_what_comes_next_in_their_session(bundle):
    response, first = top(bundle, recent_items=("a", "b"))
    assert response.fallback == "session"
    assert first.extra["item_id"] == "c"
    assert first.path == "because you just viewed Item b"
    assert any(c.signal == "sequential" and c.value > 0 for c in first.contributions)
