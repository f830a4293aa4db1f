"""IdMap: the one place where external ids become matrix rows and back."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np


class IdMap:
    """A bijection between external string ids and dense indices ``0..n-1``.

    >>> m = IdMap(["a", "b"]); m.index(["b", "zz"]).tolist(), m.ids[0], len(m)
    ([1, -1], 'a', 2)
    """

    def __init__(self, ids: Iterable[object]) -> None:
        self.ids: list[str] = [str(i) for i in ids]
        self._pos = {value: i for i, value in enumerate(self.ids)}
        if len(self._pos) != len(self.ids):
            raise ValueError("IdMap ids must be unique")

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, external_id: object) -> bool:
        return str(external_id) in self._pos

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdMap) and self.ids == other.ids

    def __repr__(self) -> str:
        return f"IdMap({len(self)} ids)"

    def index(self, external_ids: Sequence[object] | np.ndarray) -> np.ndarray:
        """Indices (int64) of the given ids; -1 where an id is unknown."""
        pos = self._pos
        return np.fromiter((pos.get(str(e), -1) for e in external_ids), dtype=np.int64, count=len(external_ids))

    def index_of(self, external_id: object) -> int:
        """The index of one id; KeyError names the id when it is unknown."""
        try:
            return self._pos[str(external_id)]
        except KeyError:
            raise KeyError(f"unknown id {external_id!r}") from None

    def extended(self, new_ids: Iterable[object]) -> IdMap:
        """A map with ``new_ids`` appended (existing indices unchanged)."""
        extra = [str(i) for i in new_ids if str(i) not in self._pos]
        return IdMap(self.ids + list(dict.fromkeys(extra)))

    def fingerprint(self) -> str:
        """A short hash of the ids in order, stored in artifacts and checked on load."""
        digest = hashlib.sha1("\x1f".join(self.ids).encode("utf-8"))
        return digest.hexdigest()[:16]

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.ids, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> IdMap:
        return cls(json.loads(Path(path).read_text()))
