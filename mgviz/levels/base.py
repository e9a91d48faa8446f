"""The one interface every level has: a small fitted scorer that answers for users on demand.

A level keeps its own state – a user side (one row per user: segment membership, category
mix, ALS factors, profile embedding, a history row …) and an item side (P(item | segment),
P(item | category), item factors, item embeddings, item-item weights …) – and never holds a
users × items array. What it can do:

``score(rows, items=None)``
    A block of users against all items (or against candidate ``items``), per-user min-max
    normalised to [0, 1] over all items, so that weights mean the same for every level.
``top_k(rows, k, exclude=None)``
    Each user's best ``k`` items (seen items excluded), a bounded block of users at a time.
``fold_in(evidence)`` / ``with_user(row, state)`` / ``score_state(state)``
    A new or changed user's row from the level's own state (no refit), the level with that
    row replaced, or that row scored without keeping it.
``save(folder)`` / ``load(folder)``
    ``state.json`` (kind, parameters) plus one ``.npy`` per array (``allow_pickle=False``);
    sparse arrays as their CSR parts. Never pickle.

Example::

    level = MesoLevel.fit(weighted, item_categories, popularity)
    level.score([0, 1])          # 2 × n_items, each row in [0, 1]
    level.top_k([0, 1], 10, exclude=seen)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

#: Cells (users × items) scored at once by the blockwise methods: 1M float32 = 4 MB per level (ranking
#: a block takes about 40 bytes a cell with its sort keys and temporaries).
BLOCK_CELLS = 1_000_000


def block_rows(n_items: int, cells: int = BLOCK_CELLS) -> int:
    """How many users fit in one block of ``cells`` scores."""
    return max(1, cells // max(n_items, 1))


def iter_blocks(rows, n_items: int, cells: int = BLOCK_CELLS) -> Iterator[np.ndarray]:
    rows = np.asarray(rows, dtype=np.int64)
    size = block_rows(n_items, cells)
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def normalise_rows(scores: np.ndarray) -> np.ndarray:
    """Min-max scale each row to [0, 1] in place (a constant row becomes 0). float32."""
    scores = np.asarray(scores, dtype=np.float32)
    if scores.size == 0:
        return scores
    lo = scores.min(axis=1, keepdims=True)
    span = scores.max(axis=1, keepdims=True) - lo
    span[span <= 0] = 1.0
    scores -= lo
    scores /= span
    return scores


@dataclass
class UserEvidence:
    """What one user did, in the model's item order – the input of every level's fold-in.

    ``derived`` collects what levels compute on the way (``mix``, ``als``, ``profile``,
    ``vector``), in the order the model folds its levels in.
    """

    weighted: sp.csr_matrix  # 1 × n_items, rating- and recency-weighted interest
    seen: sp.csr_matrix  # 1 × n_items, 1 where the user interacted
    text_embedding: np.ndarray  # the user's own-text vector (zeros: no text)
    demographics: np.ndarray | None = None  # the user's demographic features (as the build encoded them)
    #: The user's items in time order (item indices, oldest first) and their days since the epoch.
    recent: tuple[np.ndarray, np.ndarray] | None = None
    #: A category mix predicted for a user without history (the cold-start predictor, from demographics and
    #: text); the meso level takes it instead of the population prior. Ignored once the user has history.
    predicted_mix: np.ndarray | None = None
    #: The user's direct friends (1 × n_users edge weights) and their own row (``None``: not a row of the
    #: model), for the social level; no friends: the social level says nothing about the user.
    friends: sp.csr_matrix | None = None
    row: int | None = None
    derived: dict = field(default_factory=dict)


class Level:
    """Base of every level. Subclasses set ``kind``, ``user_arrays``, ``item_arrays`` and implement
    :meth:`_raw` (scores of a block of user-side rows) and :meth:`fold_in`.

    ``user_arrays`` / ``item_arrays`` name attributes holding the user side (one row per user,
    dense or CSR) and the item side; ``params`` holds JSON-able settings. Together they are the
    whole state, which is what :meth:`save` writes and :meth:`load` reads.
    """

    kind: ClassVar[str] = ""
    user_arrays: ClassVar[tuple[str, ...]] = ()
    item_arrays: ClassVar[tuple[str, ...]] = ()
    registry: ClassVar[dict[str, type[Level]]] = {}

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.kind:
            Level.registry[cls.kind] = cls

    def __init__(self, name: str, n_items: int, params: dict | None = None, **arrays):
        self.name = name
        self.n_items = int(n_items)
        self.params = dict(params or {})
        for key in (*self.user_arrays, *self.item_arrays):
            setattr(self, key, arrays.get(key))

    # ------------------------------------------------------------------ shape
    @property
    def n_users(self) -> int:
        return getattr(self, self.user_arrays[0]).shape[0]

    def _user_block(self, rows) -> dict:
        return {key: getattr(self, key)[rows] for key in self.user_arrays}

    # ------------------------------------------------------------------ scoring
    def _raw(self, users: dict, items=None) -> np.ndarray:
        """Raw scores (len(block) × items), float32, for a block of user-side rows."""
        raise NotImplementedError

    def raw(self, rows, items=None) -> np.ndarray:
        return self._raw(self._user_block(np.asarray(rows, dtype=np.int64)), items)

    def score(self, rows, items=None) -> np.ndarray:
        """Normalised scores of users ``rows`` against all items, or against ``items``.

        The normalisation is over all items either way, so scoring candidates costs as
        much as scoring the users' whole rows (blockwise, bounded memory).
        """
        rows = np.asarray(rows, dtype=np.int64)
        if items is None:
            return normalise_rows(self.raw(rows))
        items = np.asarray(items, dtype=np.int64)
        out = np.empty((len(rows), len(items)), dtype=np.float32)
        at = 0
        for block in iter_blocks(rows, self.n_items):
            out[at : at + len(block)] = normalise_rows(self.raw(block))[:, items]
            at += len(block)
        return out

    def score_state(self, state: dict, items=None) -> np.ndarray:
        """Normalised scores (1 × items) of one user-side row given as ``state`` (see :meth:`fold_in`)."""
        block = {key: _as_block(state[key]) for key in self.user_arrays}
        full = normalise_rows(self._raw(block))
        return full if items is None else full[:, np.asarray(items, dtype=np.int64)]

    def top_k(self, rows, k: int, exclude: sp.csr_matrix | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Best ``k`` items per user (indices, padded with -1) and their normalised scores."""
        from mgviz.fusion import top_n

        rows = np.asarray(rows, dtype=np.int64)
        ids, vals = [], []
        for block in iter_blocks(rows, self.n_items):
            scores = self.score(block)
            top = top_n(scores, k, exclude=None if exclude is None else exclude[block])
            if top.shape[1] < k:  # fewer items than k: pad like a user who has seen almost everything
                top = np.hstack([top, np.full((len(top), k - top.shape[1]), -1, dtype=top.dtype)])
            ids.append(top)
            vals.append(np.where(top >= 0, np.take_along_axis(scores, np.maximum(top, 0), axis=1), np.nan))
        if not ids:
            return np.zeros((0, k), np.int64), np.zeros((0, k), np.float32)
        return np.vstack(ids), np.vstack(vals).astype(np.float32)

    # ------------------------------------------------------------------ fold-in
    def fold_in(self, evidence: UserEvidence) -> dict:
        """This level's user-side row for ``evidence``, from the level's own state (no refit)."""
        raise NotImplementedError

    def with_user(self, row: int, state: dict) -> Level:
        """A copy whose user ``row`` is ``state``; every other row and the item side are shared."""
        new = self.copy()
        for key in self.user_arrays:
            setattr(new, key, set_row(getattr(self, key), row, state[key]))
        return new

    def copy(self) -> Level:
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.params = dict(self.params)
        return new

    def describe(self) -> dict:
        """What the manifest and the app show about this level."""
        return {"kind": self.kind, **self.params}

    # ------------------------------------------------------------------ persistence
    def save(self, folder) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {}
        for key in (*self.user_arrays, *self.item_arrays):
            value = getattr(self, key)
            if value is None:
                continue
            if sp.issparse(value):
                value = sp.csr_matrix(value)
                for part in ("data", "indices", "indptr"):
                    np.save(folder / f"{key}.{part}.npy", getattr(value, part), allow_pickle=False)
                arrays[key] = {"sparse": list(value.shape)}
            else:
                np.save(folder / f"{key}.npy", np.ascontiguousarray(value), allow_pickle=False)
                arrays[key] = {"shape": list(np.shape(value))}
        state = {"kind": self.kind, "name": self.name, "n_items": self.n_items, "params": self.params,
                 "arrays": arrays}  # fmt: skip
        (folder / "state.json").write_text(json.dumps(state, indent=1, ensure_ascii=False), encoding="utf-8")
        return folder

    @staticmethod
    def load(folder) -> Level:
        """The level saved in ``folder`` (its class from ``state.json``'s ``kind``)."""
        folder = Path(folder)
        state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
        cls = Level.registry.get(state.get("kind", ""))
        if cls is None:
            raise ValueError(f"{folder}: unknown level kind {state.get('kind')!r}")
        arrays = {}
        for key, spec in state.get("arrays", {}).items():
            if "sparse" in spec:
                parts = [_load_npy(folder / f"{key}.{p}.npy") for p in ("data", "indices", "indptr")]
                arrays[key] = sp.csr_matrix(tuple(parts), shape=tuple(spec["sparse"]))
            else:
                arrays[key] = _load_npy(folder / f"{key}.npy")
                if list(arrays[key].shape) != list(spec["shape"]):
                    raise ValueError(f"{folder}: {key}.npy has shape {arrays[key].shape}, expected {spec['shape']}")
        level = cls(state["name"], state["n_items"], state.get("params"), **arrays)
        level._load_extra(folder)
        return level

    def _load_extra(self, folder: Path) -> None:
        """Hook for levels made of other levels (their sub-folders)."""


#: Arrays larger than this are memory-mapped read-only when loaded: opening a big run reads only
#: the rows it is asked about.
MMAP_BYTES = 64 * 2**20


def load_array(path: Path) -> np.ndarray:
    """``np.load`` without pickle; memory-mapped (read-only) above :data:`MMAP_BYTES`."""
    big = Path(path).stat().st_size > MMAP_BYTES
    return np.load(path, allow_pickle=False, mmap_mode="r" if big else None)


def _load_npy(path: Path) -> np.ndarray:
    try:
        return load_array(path)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{path.name} is not a readable array ({exc})") from None


def _as_block(value):
    if sp.issparse(value):
        return sp.csr_matrix(value)
    return np.atleast_2d(np.asarray(value))


def set_row(array, row: int, value):
    if sp.issparse(array):
        array = sp.csr_matrix(array)
        value = sp.csr_matrix(value, dtype=array.dtype)
        parts = [array[:row], value, array[row + 1 :]]
        return sp.vstack([p for p in parts if p.shape[0]], format="csr")
    out = np.array(array, copy=True)
    out[row] = np.asarray(value).reshape(out.shape[1:])
    return out


class FactorLevel(Level):
    """Scores that are a product of a user side and an item side: ``U[u] · V[i]`` (optionally
    through a monotone ``transform``). Macro, meso, ALS and semantic are all of this form."""

    kind = "factor"
    user_arrays = ("user_side",)
    item_arrays = ("item_side",)

    def _raw(self, users: dict, items=None) -> np.ndarray:
        v = self.item_side if items is None else self.item_side[np.asarray(items, dtype=np.int64)]
        u = users["user_side"]
        out = u @ v.T
        out = out.toarray() if sp.issparse(out) else np.asarray(out)
        return np.asarray(out, dtype=np.float32)
