"""What fitting a signal costs: memory and time, estimated from the catalog and event counts.

Every recommender answers ``cls.cost(workload, config) -> Cost`` before it is fitted, so a
job can be refused before it starts (see :mod:`mlcore.training.budget`). The figures are
rough models calibrated on this project's 2-core CPU machine by ``benchmarks/scale.py``
(Online Retail replicated to 1k..100k products, 50 events per product); they aim to be
right within a factor of about two, and on the safe side.

>>> w = Workload(n_users=100_000, n_items=100_000, n_interactions=5_000_000)
>>> w.density < 1e-3
True
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

MB = 1 << 20
GB = 1 << 30


@dataclass(frozen=True)
class Workload:
    """The sizes a cost depends on: shoppers, catalogue items and (user, item) interactions.

    ``n_interactions`` counts distinct (user, item) pairs when known, else events (an upper
    bound). ``n_events`` is the raw event count (0: take ``n_interactions``). ``item_pairs``:
    the nonzeros of XᵀX, i.e. item pairs some shopper has both of (0: estimated, see
    :attr:`pairs`; :meth:`of` measures it on a sample of items).
    """

    n_users: int
    n_items: int
    n_interactions: int
    n_events: int = 0
    item_pairs: int = 0

    @classmethod
    def of(cls, matrix: sp.csr_matrix, n_events: int = 0, sample: int = 512, seed: int = 0) -> Workload:
        """The workload of a users×items interaction matrix, ``item_pairs`` measured on ``sample`` items."""
        m = sp.csr_matrix(matrix)
        n_users, n_items = m.shape
        pairs = 0
        if n_items and m.nnz:
            picked = np.random.default_rng(seed).choice(n_items, size=min(sample, n_items), replace=False)
            ones = m.copy()
            ones.data[:] = 1.0
            rows = (ones[:, picked].T.tocsr() @ ones).tocsr()
            pairs = int(np.diff(rows.indptr).mean() * n_items)
        return cls(n_users=n_users, n_items=n_items, n_interactions=int(m.nnz), n_events=n_events, item_pairs=pairs)

    @property
    def events(self) -> int:
        return self.n_events or self.n_interactions

    @property
    def triples(self) -> int:
        """Σ_u d_u², the (user, item, item) triples behind XᵀX: retail histories are skewed, so
        three times the even-spread n_interactions² / n_users (Online Retail: 2.9 times)."""
        return 3 * self.n_interactions**2 // max(1, self.n_users)

    @property
    def pairs(self) -> int:
        """Nonzeros of XᵀX: measured, else a sixth of :attr:`triples` (Online Retail: 47.4M
        triples, 8.2M pairs), at most n_items²."""
        if self.item_pairs:
            return self.item_pairs
        return int(min(self.n_items**2, max(self.n_interactions, self.triples // 6)))

    @property
    def density(self) -> float:
        return self.n_interactions / max(1, self.n_users * self.n_items)

    @property
    def matrix_bytes(self) -> int:
        """Building one (decayed) user×item matrix from the events frame: weights, ages and
        COO indices per event, about 100 bytes each (measured: 535 MB at 5M events), plus the CSR."""
        return 100 * self.events + self.csr_bytes

    @property
    def csr_bytes(self) -> int:
        """One float32 user×item CSR matrix: 4 + 4 bytes per nonzero plus the row pointers."""
        return 8 * self.n_interactions + 8 * (self.n_users + 1)


@dataclass(frozen=True)
class Cost:
    """``peak_bytes``: the most memory a fit adds above the data it is given (fit transients
    included). ``model_bytes``: what the fitted model keeps while it serves and is evaluated.
    ``seconds``: fit time on a 2-core CPU. ``note``: what to change to make it cheaper.
    """

    peak_bytes: int
    model_bytes: int
    seconds: float
    note: str = ""

    def __post_init__(self) -> None:
        if self.model_bytes > self.peak_bytes:
            object.__setattr__(self, "peak_bytes", self.model_bytes)

    def describe(self) -> str:
        return f"peak {self.peak_bytes / MB:,.0f} MB, keeps {self.model_bytes / MB:,.0f} MB, about {self.seconds:,.0f} s"


__all__ = ["GB", "MB", "Cost", "Workload"]
