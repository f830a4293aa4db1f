"""Bundle.recommend with what happened after training: later purchases and current product attributes."""
import numpy as np
import pytest

from mlcore.data import temporal_split
from mlcore.fusion import ExcludeBought, InStock
from mlcore.serving.bundle import load_bundle
from mlcore.training.artifacts import write_bundle
from mlcore.training.runner import RunConfig, SignalSpec, run
from tests.mlcore.conftest import tiny_dataset


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    data = tiny_dataset()
    data.products["in_stock"] = True
    split = temporal_split(data, "2024-01-15", validation_days=7)
    result = run(data, split, RunConfig(signals=tuple(SignalSpec(n) for n in ("popularity", "item_knn"))))
    return load_bundle(write_bundle(tmp_path_factory.mktemp("fresh") / "b", result))


def ids(recs):
    return [r.extra["item_id"] for r in recs]


def test_purchases_after_training_count_as_bought_for_the_rule_and_for_exclude_seen(bundle):
    plain = ids(bundle.recommend("u1", k=10, rules=[ExcludeBought()]))
    later = plain[0]
    assert later not in {bundle.items.ids[i] for i in bundle.seen[bundle.user_index("u1")].indices}
    fresh = ids(bundle.recommend("u1", k=10, rules=[ExcludeBought()], extra_seen=[later, "no-such-item"]))
    assert later not in fresh and fresh == [i for i in plain if i != later]
    assert later not in ids(bundle.recommend("u1", k=10, exclude_seen=True, extra_seen=[later]))
    assert later in ids(bundle.recommend("u1", k=10, extra_seen=[later]))  # no rule, no exclusion


def test_rules_read_the_product_table_given_instead_of_the_bundles(bundle):
    top = ids(bundle.recommend("u5", k=10, rules=[InStock()]))
    now = bundle.products.assign(in_stock=np.asarray([i != top[0] for i in bundle.items.ids]))
    assert top[0] not in ids(bundle.recommend("u5", k=10, rules=[InStock()], products=now))
    assert top[0] in ids(bundle.recommend("u5", k=10, rules=[InStock()]))  # the bundle itself is unchanged
    with pytest.raises(ValueError, match="products has 2 rows"):
        bundle.recommend("u5", products=bundle.products.head(2))
