"""Train / validation / test splits of a :class:`~mlcore.data.Dataset`, all deterministic.

Every split keeps the parent's ``users`` and ``items`` maps, so a row or column index
means the same shopper or product in train, validation and test.

- :func:`temporal_split`: train before ``cut - validation_days``, validation up to the cut,
  test from the cut on (items first seen after the cut are the cold-start slice);
- :func:`leave_last_out`: each shopper's last ``n`` events are test, the ``validation_n``
  before them validation;
- :func:`random_split`: each shopper's events shuffled (seeded) and divided by fractions.

:class:`SplitSpec` names one of them as text (the CLI's ``--split``) or as a dict (a training
job's JSON), checked once, and makes the split:

>>> str(SplitSpec.parse("random"))
'random:0.8:0.1:0.1'
>>> SplitSpec.parse("temporal:last-30d:14d").to_dict()
{'kind': 'temporal', 'test_days': 30.0, 'validation_days': 14.0}
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mlcore.data.dataset import Dataset


@dataclass(frozen=True, eq=False)
class Split:
    """Three Datasets over one pair of id maps; ``name`` says how they were made.

    Interaction sets use ``weights`` (default: the dataset's own ``event_weights``): an event
    counts when its type weighs more than 0.
    """

    train: Dataset
    validation: Dataset
    test: Dataset
    name: str = ""

    def __post_init__(self) -> None:
        for part in (self.validation, self.test):
            if part.users is not self.train.users and part.users != self.train.users:
                raise ValueError("split parts must share the user map")
            if part.items is not self.train.items and part.items != self.train.items:
                raise ValueError("split parts must share the item map")

    @property
    def n_users(self) -> int:
        return self.train.n_users

    @property
    def n_items(self) -> int:
        return self.train.n_items

    def train_and_validation(self) -> Dataset:
        """Train plus validation events (to refit on before scoring the test window)."""
        events = pd.concat([self.train.events, self.validation.events]).sort_values("timestamp", kind="stable")
        return self.train.with_events(events)

    # -- per-user item sets ----------------------------------------------------------
    def test_items(self, weights: Mapping[str, float] | None = None) -> sp.csr_matrix:
        """Binary users×items CSR (float32) of what each shopper interacted with in test."""
        return _relevant(self.test, weights)

    def validation_items(self, weights: Mapping[str, float] | None = None) -> sp.csr_matrix:
        """Binary users×items CSR (float32) of what each shopper interacted with in validation."""
        return _relevant(self.validation, weights)

    def train_items(self, weights: Mapping[str, float] | None = None) -> sp.csr_matrix:
        """Binary users×items CSR (float32) of training interactions (the 'already bought' mask)."""
        return _relevant(self.train, weights)

    # -- users and items ---------------------------------------------------------------
    def test_users(self, weights: Mapping[str, float] | None = None) -> np.ndarray:
        """Sorted user indices (int64) with at least one test interaction."""
        return _nonempty_rows(self.test_items(weights))

    def validation_users(self, weights: Mapping[str, float] | None = None) -> np.ndarray:
        """Sorted user indices (int64) with at least one validation interaction."""
        return _nonempty_rows(self.validation_items(weights))

    def warm_users(self, weights: Mapping[str, float] | None = None) -> np.ndarray:
        """Test users who also have training interactions."""
        users = self.test_users(weights)
        return users[_row_counts(self.train_items(weights))[users] > 0]

    def cold_users(self, weights: Mapping[str, float] | None = None) -> np.ndarray:
        """Test users with no training interaction (only non-personal signals can serve them)."""
        users = self.test_users(weights)
        return users[_row_counts(self.train_items(weights))[users] == 0]

    def warm_items(self, weights: Mapping[str, float] | None = None) -> np.ndarray:
        """Item indices (int64) with at least one training interaction."""
        return np.flatnonzero(_col_counts(self.train_items(weights)) > 0).astype(np.int64)

    def cold_items(self, weights: Mapping[str, float] | None = None) -> np.ndarray:
        """Item indices (int64) with no training interaction: CF cannot score them.

        Includes catalogue items never interacted with at all; intersect with the test
        matrix's columns for the items that matter in evaluation.
        """
        return np.flatnonzero(_col_counts(self.train_items(weights)) == 0).astype(np.int64)

    def describe(self) -> dict[str, int]:
        """Event counts per part and the sizes of the user/item sets."""
        return {
            "train_events": len(self.train.events),
            "validation_events": len(self.validation.events),
            "test_events": len(self.test.events),
            "test_users": len(self.test_users()),
            "cold_users": len(self.cold_users()),
            "cold_items": len(self.cold_items()),
        }


def temporal_split(data: Dataset, cut: str | pd.Timestamp, validation_days: float = 30.0) -> Split:
    """Test = events at or after ``cut``; validation = the ``validation_days`` just before it.

    ``validation_days=0`` leaves validation empty. Raises ValueError when train or test
    would be empty, naming the data's time range.
    """
    cut_ts = pd.Timestamp(cut)
    ts = data.events["timestamp"]
    tz = getattr(ts.dt, "tz", None) if len(ts) else None
    if tz is not None and cut_ts.tz is None:
        cut_ts = cut_ts.tz_localize(tz)
    elif tz is None and cut_ts.tz is not None:
        cut_ts = cut_ts.tz_convert(None)
    start_ts = cut_ts - pd.Timedelta(days=validation_days)
    train_mask = (ts < start_ts).to_numpy()
    test_mask = (ts >= cut_ts).to_numpy()
    if not train_mask.any() or not test_mask.any():
        span = f"{ts.min()} .. {ts.max()}" if len(ts) else "no events"
        raise ValueError(
            f"temporal cut {cut_ts} with {validation_days} validation days leaves "
            f"{'train' if not train_mask.any() else 'test'} empty; events span {span}"
        )
    return _make(data, train_mask, ~train_mask & ~test_mask, test_mask, f"temporal:{cut_ts.date()}")


def leave_last_out(data: Dataset, n: int = 1, validation_n: int = 1) -> Split:
    """Each shopper's last ``n`` events → test, the ``validation_n`` before → validation.

    Only shoppers with more than ``n + validation_n`` events are held out (so each keeps
    at least one training event); others stay wholly in train. Ties in time keep file order.
    """
    if n < 1 or validation_n < 0:
        raise ValueError(f"leave_last_out needs n >= 1 and validation_n >= 0, got n={n}, validation_n={validation_n}")
    by_time = np.argsort(data.events["timestamp"].to_numpy(), kind="stable")
    users = pd.Series(data.user_index[by_time])
    from_end = np.empty(len(users), dtype=np.int64)
    from_end[by_time] = users.groupby(users).cumcount(ascending=False).to_numpy()
    count = np.bincount(data.user_index, minlength=data.n_users)[data.user_index]
    held = count > n + validation_n
    test_mask = held & (from_end < n)
    validation_mask = held & (from_end >= n) & (from_end < n + validation_n)
    return _make(data, ~(test_mask | validation_mask), validation_mask, test_mask, f"leave-last-out:{n}")


def random_split(
    data: Dataset, train: float = 0.8, validation: float = 0.1, test: float = 0.1, seed: int = 0
) -> Split:
    """Each shopper's events shuffled with ``seed`` and cut by the fractions (which sum to 1).

    A shopper keeps at least one training event; validation and test get
    ``round(count × fraction)`` events each, as far as events remain.
    """
    fractions = np.array([train, validation, test], dtype=np.float64)
    if (fractions < 0).any() or not np.isclose(fractions.sum(), 1.0):
        raise ValueError(f"random split fractions must be >= 0 and sum to 1, got {train}, {validation}, {test}")
    rng = np.random.default_rng(seed)
    users = data.user_index
    keys = rng.random(len(users))
    order = np.lexsort((keys, users))
    rank = np.empty(len(users), dtype=np.int64)
    sorted_users = users[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_users)) + 1]
    lengths = np.diff(np.r_[starts, len(users)])
    rank[order] = np.arange(len(users)) - np.repeat(starts, lengths)
    count = np.bincount(users, minlength=data.n_users)[users]
    n_test = np.minimum(np.rint(count * test), np.maximum(count - 1, 0)).astype(np.int64)
    n_val = np.minimum(np.rint(count * validation), np.maximum(count - 1 - n_test, 0)).astype(np.int64)
    test_mask = rank < n_test
    validation_mask = ~test_mask & (rank < n_test + n_val)
    return _make(
        data, ~(test_mask | validation_mask), validation_mask, test_mask, f"random:{train}:{validation}:{test}:{seed}"
    )


SplitKind = Literal["temporal", "leave-last-out", "random"]
SPLIT_FORMS = "temporal:2011-10-01[:30d], temporal:last-30d[:30d], leave-last-out[:N[:V]] or random[:0.8:0.1:0.1[:SEED]]"
_DAYS = re.compile(r"^(\d+(?:\.\d+)?)d$")


@dataclass(frozen=True)
class SplitSpec:
    """Which split to make, checked; ``parse(str(spec)) == spec``.

    Text forms (``SPLIT_FORMS``): ``temporal:<cut date>[:<V>d]`` (test from the cut on,
    validation the ``V`` days before it, 30 by default) or ``temporal:last-<T>d[:<V>d]`` (test =
    the last ``T`` days of events); ``leave-last-out[:<n>[:<validation n>]]``;
    ``random[:<train>:<validation>:<test>[:<seed>]]``. Dict forms (stored with training jobs):
    ``{"kind": "temporal", "test_days" | "cut", "validation_days"}``, ``{"kind": "leave_last_out",
    "n", "validation_n"}``, ``{"kind": "random", "train", "validation", "test", "seed"}``.
    """

    kind: SplitKind = "temporal"
    cut: str | None = None  # temporal: an ISO date/time; None means ``test_days`` before the last event
    test_days: float = 30.0
    validation_days: float = 30.0
    n: int = 1
    validation_n: int = 1
    train: float = 0.8
    validation: float = 0.1
    test: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("temporal", "leave-last-out", "random"):
            raise ValueError(f"split {self.kind!r} not understood; use {SPLIT_FORMS}")
        if self.cut is not None:
            try:
                pd.Timestamp(self.cut)
            except (TypeError, ValueError):
                raise ValueError(f"split cut {self.cut!r} is not a date; use e.g. temporal:2011-10-01") from None
        checks = [(self.test_days, 1, "test days"), (self.validation_days, 0, "validation days"),
                  (self.n, 1, "n"), (self.validation_n, 0, "validation n"), (self.seed, 0, "seed"),
                  (self.train, 0, "train fraction"), (self.validation, 0, "validation fraction"),
                  (self.test, 0, "test fraction")]
        for value, low, what in checks:
            if not value >= low:
                raise ValueError(f"split {what} {value!r} must be at least {low}")
        if abs(self.train + self.validation + self.test - 1.0) > 1e-6:
            raise ValueError(f"random split fractions {self.train}, {self.validation}, {self.test} must sum to 1")

    @classmethod
    def parse(cls, text: str, *, validation_days: float = 30.0, seed: int = 0) -> SplitSpec:
        """The spec of ``text`` (forms above); ``validation_days`` and ``seed`` fill in what it leaves out.

        Raises ValueError naming the text and the forms understood.
        """
        kind, _, rest = text.strip().partition(":")
        parts = rest.split(":") if rest else []
        try:
            if kind == "temporal" and parts:
                days = _DAYS.match(parts[-1]) if len(parts) > 1 else None
                if days:
                    validation_days, parts = float(days.group(1)), parts[:-1]
                cut = ":".join(parts)
                last = re.fullmatch(r"last-(\d+(?:\.\d+)?)d", cut)
                if last:
                    return cls("temporal", test_days=float(last.group(1)), validation_days=validation_days)
                return cls("temporal", cut=cut, validation_days=validation_days)
            if kind == "leave-last-out" and len(parts) <= 2:
                numbers = [int(p) for p in parts]
                return cls("leave-last-out", n=numbers[0] if numbers else 1,
                           validation_n=numbers[1] if len(numbers) > 1 else 1)
            if kind == "random" and len(parts) in (0, 3, 4):
                fractions = [float(p) for p in parts[:3]] or [0.8, 0.1, 0.1]
                return cls("random", train=fractions[0], validation=fractions[1], test=fractions[2],
                           seed=int(parts[3]) if len(parts) == 4 else seed)
        except ValueError as exc:
            ours = str(exc).startswith(("split", "random split"))  # a checked field, not a bad number
            raise ValueError(f"split {text!r}: {exc}" + ("" if ours else f"; use {SPLIT_FORMS}")) from None
        raise ValueError(f"split {text!r} not understood; use {SPLIT_FORMS}")

    def __str__(self) -> str:
        if self.kind == "temporal":
            days = "" if self.validation_days == 30 else f":{_number(self.validation_days)}d"
            return f"temporal:{self.cut if self.cut is not None else f'last-{_number(self.test_days)}d'}{days}"
        if self.kind == "leave-last-out":
            numbers = [self.n] if self.validation_n == 1 else [self.n, self.validation_n]
            return "leave-last-out" + ("" if numbers == [1] else ":" + ":".join(map(str, numbers)))
        seed = f":{self.seed}" if self.seed else ""
        return f"random:{_number(self.train)}:{_number(self.validation)}:{_number(self.test)}{seed}"

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any] | str | None) -> SplitSpec:
        """The spec of a job's dict (keys above; missing ones take the defaults), or of text."""
        if spec is None:
            return cls()
        if isinstance(spec, str):
            return cls.parse(spec)
        kind = str(spec.get("kind", "temporal")).replace("_", "-")
        fields = {"temporal": ("cut", "test_days", "validation_days"), "leave-last-out": ("n", "validation_n"),
                  "random": ("train", "validation", "test", "seed")}.get(kind)
        if fields is None:
            raise ValueError(f"unknown split kind {spec.get('kind')!r}; use one of temporal, leave_last_out, random")
        types = {"cut": str, "n": int, "validation_n": int, "seed": int}
        values: dict[str, Any] = {}
        for name in fields:
            if spec.get(name) is None:
                continue
            raw = spec[name]
            try:
                value = types.get(name, float)(raw)
            except (TypeError, ValueError):
                raise ValueError(f"split {name}={raw!r} is not a number") from None
            if isinstance(value, int) and not isinstance(raw, str) and value != float(raw):
                raise ValueError(f"split {name}={raw!r} is not a whole number")
            values[name] = value
        return cls(kind, **values)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        """The JSON a training job stores (``from_dict(spec.to_dict()) == spec``)."""
        if self.kind == "temporal":
            where: dict[str, Any] = {"cut": self.cut} if self.cut is not None else {"test_days": self.test_days}
            return {"kind": "temporal", **where, "validation_days": self.validation_days}
        if self.kind == "leave-last-out":
            return {"kind": "leave_last_out", "n": self.n, "validation_n": self.validation_n}
        return {"kind": "random", "seed": self.seed, "train": self.train, "validation": self.validation,
                "test": self.test}

    def make(self, data: Dataset) -> Split:
        """The split of ``data`` this spec describes (ValueError when a part would be empty)."""
        if self.kind == "temporal":
            if self.cut is not None:
                return temporal_split(data, self.cut, validation_days=self.validation_days)
            cut = data.events["timestamp"].max() - pd.Timedelta(days=self.test_days)
            return temporal_split(data, cut, validation_days=self.validation_days)
        if self.kind == "leave-last-out":
            return leave_last_out(data, n=self.n, validation_n=self.validation_n)
        return random_split(data, self.train, self.validation, self.test, seed=self.seed)


# -- helpers ---------------------------------------------------------------------------
def _number(x: float) -> str:
    """``30.0`` → ``30``, ``0.1`` → ``0.1``: the shortest text that reads back as ``x``."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _make(data: Dataset, train: np.ndarray, validation: np.ndarray, test: np.ndarray, name: str) -> Split:
    events = data.events
    return Split(
        train=data.with_events(events.loc[train]),
        validation=data.with_events(events.loc[validation]),
        test=data.with_events(events.loc[test]),
        name=name,
    )


def _relevant(data: Dataset, weights: Mapping[str, float] | None) -> sp.csr_matrix:
    return data.matrix(weights, binary=True)


def _row_counts(m: sp.csr_matrix) -> np.ndarray:
    return np.diff(m.indptr)


def _col_counts(m: sp.csr_matrix) -> np.ndarray:
    return np.bincount(m.indices, minlength=m.shape[1])


def _nonempty_rows(m: sp.csr_matrix) -> np.ndarray:
    return np.flatnonzero(_row_counts(m) > 0).astype(np.int64)
