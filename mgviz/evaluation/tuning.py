"""Choosing the fusion weights on held-out data.

The level score arrays passed here must have been FIT ON A TRAINING PART
ONLY, and ``target`` must be interactions the levels never saw (a validation
part carved out of training, or the test part when only reporting); otherwise
the chosen weights reward whichever level memorised the answers.

Two strategies, as in the design:

- grid search over the weight simplex (:func:`weight_surface`,
  :func:`choose_weights_grid`), which also gives the whole metric surface for
  display;
- stacking (:func:`learn_weights_stacking`): a logistic regression on the
  levels' scores of positive and sampled negative (user, item) pairs.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mgviz.evaluation.metrics import ACCURACY_METRICS, canonical_csr, ranking_metrics
from mgviz.fusion import PRODUCT_FLOOR, check_strategy, fuse, top_n


def simplex_grid(levels, step: float = 0.1) -> np.ndarray:
    """Every weight vector with entries in multiples of ``step`` that sums to 1.

    Parameters
    ----------
    levels : sequence of str or int
        The levels (only their number matters), or the number itself.
    step : float
        Grid spacing; ``1 / step`` must be (close to) an integer.

    Returns
    -------
    ndarray of float64, shape (C(n + L - 1, L - 1), L)
        Rows in lexicographic order of the integer compositions, e.g. 286 rows
        for 4 levels at step 0.1.
    """
    n_levels = levels if isinstance(levels, int) else len(list(levels))
    if n_levels < 1:
        raise ValueError("simplex_grid needs at least one level")
    n = round(1.0 / step)
    if n < 1 or not math.isclose(n * step, 1.0, rel_tol=1e-9, abs_tol=1e-9):
        raise ValueError(f"step must divide 1 (e.g. 0.1, 0.05, 0.25), got {step}")
    # Stars and bars: choosing L-1 bar positions among n+L-1 slots enumerates the compositions of n.
    rows = []
    for bars in itertools.combinations(range(n + n_levels - 1), n_levels - 1):
        edges = (-1, *bars, n + n_levels - 1)
        rows.append([edges[j + 1] - edges[j] - 1 for j in range(n_levels)])
    return np.asarray(rows, dtype=np.float64) / n


def _additive(scores: np.ndarray, strategy: str) -> np.ndarray:
    """Scores on the scale where ``strategy``'s fusion is a weighted sum: as they are for "weighted",
    ``log(score + floor)`` for "product" (the log of the weighted geometric mean, so the same ranking)."""
    return np.log(scores + PRODUCT_FLOOR) if strategy == "product" else scores


def _default_rows(target: sp.csr_matrix, rows) -> np.ndarray:
    """Evaluate only users with a target item: the others cannot change any accuracy metric."""
    if rows is not None:
        rows = np.asarray(rows)
        return np.flatnonzero(rows) if rows.dtype == bool else rows.astype(np.int64)
    return np.flatnonzero(np.diff(target.indptr) > 0)


def _reachable_columns(level_scores: dict[str, np.ndarray], k: int, max_share: float = 0.6) -> np.ndarray | None:
    """Per user, the items that can enter the top ``k`` under SOME convex weights (``-1`` pads rows).

    A fused score lies between the item's smallest and largest level score.
    If ``k`` items have a smallest score ≥ τ, an item whose largest score is
    below τ is beaten by all of them for every weight vector, so it can be
    dropped before the grid search without changing any list. Returns
    ``None`` when that would keep more than ``max_share`` of the catalogue.
    """
    stack = list(level_scores.values())
    lo, hi = stack[0].copy(), stack[0].copy()
    for arr in stack[1:]:
        np.minimum(lo, arr, out=lo)
        np.maximum(hi, arr, out=hi)
    n_items = lo.shape[1]
    kk = min(k, n_items)
    tau = -np.partition(-lo, kk - 1, axis=1)[:, kk - 1]
    # The margin absorbs float32 rounding of the weighted sum, keeping the pruning exact.
    margin = 1e-4 * (np.abs(np.where(np.isfinite(tau), tau, 0.0)) + 1.0)
    keep = ~(hi < (tau - margin)[:, None])
    width = int(keep.sum(axis=1).max()) if len(keep) else 0
    if width > max_share * n_items:
        return None
    # A stable argsort of "not kept" lists each row's kept columns first, in ascending item order,
    # so top_n's tie-break (lower item first) is unchanged.
    order = np.argsort(~keep, axis=1, kind="stable")[:, :width]
    return np.where(np.take_along_axis(keep, order, axis=1), order, -1)


#: Above this many items, when the exact pruning keeps too much, the grid search ranks each user's
#: candidates only: the union of every level's top :data:`CANDIDATES` items.
CANDIDATE_MIN_ITEMS = 2_000
CANDIDATES = 200


def _candidate_columns(level_scores: dict[str, np.ndarray], per_level: int) -> np.ndarray:
    """Per user, the union of every level's top ``per_level`` items, ascending (``-1`` pads rows).

    A fused top-k item of convex weights is, in practice, near the top of at least one level;
    this bounds the grid search's cost by users × levels × ``per_level`` instead of users × items.
    """
    n_items = next(iter(level_scores.values())).shape[1]
    c = min(per_level, n_items)
    idx = np.concatenate([np.argpartition(-arr, c - 1, axis=1)[:, :c] for arr in level_scores.values()], axis=1)
    idx.sort(axis=1)
    dup = np.zeros(idx.shape, dtype=bool)
    dup[:, 1:] = idx[:, 1:] == idx[:, :-1]
    idx[dup] = n_items
    idx.sort(axis=1)
    width = int((idx < n_items).sum(axis=1).max()) if len(idx) else 0
    idx = idx[:, :width]
    idx[idx == n_items] = -1
    return idx


def _gather(arr: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``arr`` restricted to each row's ``columns``; padding (-1) becomes -inf so it ranks last."""
    out = np.take_along_axis(arr, np.maximum(columns, 0), axis=1)
    out[columns < 0] = -np.inf
    return out


def weight_surface(
    level_scores: dict[str, np.ndarray],
    exclude: sp.spmatrix | None,
    target: sp.spmatrix,
    k: int = 10,
    step: float = 0.1,
    metric: str = "ndcg",
    rows=None,
    strategy: str = "weighted",
) -> pd.DataFrame:
    """The accuracy metric of the fused top-``k`` for every weight vector of the simplex grid.

    Parameters
    ----------
    level_scores : dict of str to ndarray, shape (n_evaluated_users, n_items)
        Per-level normalised scores of the evaluated users (``model.scores(rows)``), fit on training data only.
    exclude : sparse matrix or None
        Items never recommended (the training interactions).
    target : sparse matrix, shape (n_users, n_items)
        Held-out relevant items.
    k : int
        List length / metric cut-off.
    step : float
        Grid spacing (see :func:`simplex_grid`).
    metric : str
        One of :data:`mgviz.evaluation.metrics.ACCURACY_METRICS`.
    rows : array of int or bool, optional
        Users to evaluate; default: every user with a target item.
    strategy : {"weighted", "product"}
        The fusion the lists come from (:func:`mgviz.fusion.fuse`). The product is ranked as the
        weighted sum of ``log(score + floor)`` – the log of the weighted geometric mean, so the
        same lists – which keeps the pruning below valid for both.

    Items that cannot enter any top-``k`` are pruned first (exactly). On a catalogue of more than
    :data:`CANDIDATE_MIN_ITEMS` items where that keeps too much, each user's lists are ranked among
    their candidates – the union of every level's top :data:`CANDIDATES` items – an approximation
    for choosing weights that keeps the search's cost independent of the catalogue size.

    Returns
    -------
    pandas.DataFrame
        One row per weight vector: one column per level (its weight) and a
        column named ``metric`` with the mean value over the evaluated users.
    """
    score = _WeightScorer(level_scores, exclude, target, k=k, metric=metric, rows=rows, strategy=strategy)
    grid = simplex_grid(score.levels, step)
    surface = pd.DataFrame(grid, columns=score.levels)
    surface[metric] = [score(w) for w in grid]
    return surface


class _WeightScorer:
    """The metric of the fused top-``k`` for one weight vector; the level scores are sliced, masked
    and pruned once (see :func:`weight_surface`), so each call pays for a weighted sum and a partial sort."""

    def __init__(self, level_scores, exclude, target, k=10, metric="ndcg", rows=None, strategy="weighted"):
        if metric not in ACCURACY_METRICS:
            raise ValueError(f"metric must be one of {', '.join(ACCURACY_METRICS)}; got {metric!r}")
        check_strategy(strategy)
        self.levels, self.k, self.metric = list(level_scores), k, metric
        target = canonical_csr(target)
        rows = _default_rows(target, rows)
        # Excluded cells are -inf in every level, so any positive weight keeps them -inf after fusion
        # (fuse skips zero-weight levels, so no 0 * inf = NaN appears) and top_n needs no exclude.
        sub = {
            level: _additive(np.array(np.asarray(arr)[rows], dtype=np.float32), strategy)
            for level, arr in level_scores.items()
        }
        if exclude is not None:
            ex = sp.csr_matrix(exclude)[rows].tocoo()
            for arr in sub.values():
                arr[ex.row, ex.col] = -np.inf
        self.target = target[rows]
        columns = _reachable_columns(sub, k)
        if columns is None and self.target.shape[1] > CANDIDATE_MIN_ITEMS:
            columns = _candidate_columns(sub, CANDIDATES)
        if columns is not None:
            sub = {level: _gather(arr, columns) for level, arr in sub.items()}
        self.sub, self.columns = sub, columns

    def __call__(self, w) -> float:
        lists = top_n(fuse(self.sub, dict(zip(self.levels, w, strict=True))), self.k)
        if self.columns is not None:
            lists = np.take_along_axis(self.columns, lists, axis=1)
        return ranking_metrics(lists, self.target, ks=(self.k,))[self.k][self.metric]


#: Above this many grid points the weight search is coarse to fine (:func:`search_weights`).
FULL_GRID_MAX = 300


def search_weights(level_scores, exclude, target, k=10, step=0.1, metric="ndcg", rows=None,
                   strategy="weighted") -> pd.DataFrame:  # fmt: skip
    """The weight vectors a coarse-to-fine search evaluates, with their metric (a partial surface).

    Up to :data:`FULL_GRID_MAX` points the whole ``step`` grid is evaluated. Beyond (5 or more
    levels at 0.1: 1,001 points), the grid at twice the step is evaluated first, then a hill climb
    on the ``step`` grid moves ``step`` of weight from one level to another while that improves the
    metric – about a fifth of the points, ending on a local optimum of the fine grid.
    """
    score = _WeightScorer(level_scores, exclude, target, k=k, metric=metric, rows=rows, strategy=strategy)
    n_levels, n = len(score.levels), round(1.0 / step)
    if len(simplex_grid(n_levels, step)) <= FULL_GRID_MAX or n % 2:
        grid = simplex_grid(n_levels, step)
        return _frame(score.levels, metric, grid, [score(w) for w in grid])
    seen: dict[tuple, float] = {}

    def value(units: tuple) -> float:
        if units not in seen:
            seen[units] = score(np.asarray(units, dtype=np.float64) / n)
        return seen[units]

    for w in simplex_grid(n_levels, 2 * step):
        value(tuple(int(round(x * n)) for x in w))
    current = max(seen, key=lambda u: (seen[u], -list(seen).index(u)))
    while True:
        moves = []
        for i in range(n_levels):
            for j in range(n_levels):
                if i != j and current[i] > 0:
                    nxt = list(current)
                    nxt[i] -= 1
                    nxt[j] += 1
                    moves.append(tuple(nxt))
        best = max(moves, key=value)  # first of equals: the order above is fixed
        if value(best) <= value(current):
            break
        current = best
    units = list(seen)
    return _frame(score.levels, metric, np.asarray(units, dtype=np.float64) / n, [seen[u] for u in units])


def _frame(levels, metric, grid, values) -> pd.DataFrame:
    surface = pd.DataFrame(np.asarray(grid, dtype=np.float64), columns=levels)
    surface[metric] = np.asarray(values, dtype=np.float64)
    return surface


def choose_weights_grid(
    level_scores: dict[str, np.ndarray],
    exclude: sp.spmatrix | None,
    target: sp.spmatrix,
    k: int = 10,
    step: float = 0.1,
    metric: str = "ndcg",
    rows=None,
    strategy: str = "weighted",
    search: str = "refine",
) -> tuple[dict[str, float], pd.DataFrame]:
    """Best weight vector of :func:`search_weights` (``search="refine"``) or of the whole
    :func:`weight_surface` (``"full"``), and the points evaluated.

    Ties (common: many weight vectors give identical lists) go to the most
    even weight vector – the least committed choice – then to the earliest
    grid point.

    Returns
    -------
    weights : dict of str to float
    surface : pandas.DataFrame
        As returned by :func:`weight_surface`.
    """
    search = search_weights if search == "refine" else weight_surface
    surface = search(level_scores, exclude, target, k=k, step=step, metric=metric, rows=rows, strategy=strategy)
    values = surface[metric].to_numpy()
    if not np.isfinite(values).any():
        best = 0
    else:
        tied = np.flatnonzero(values == np.nanmax(values))
        w = surface.loc[tied, list(level_scores)].to_numpy()
        entropy = -(w * np.log(np.where(w > 0, w, 1.0))).sum(axis=1)
        best = int(tied[np.argmax(entropy)])
    weights = {level: float(surface.at[best, level]) for level in level_scores}
    return weights, surface


def _cell_keys(m: sp.csr_matrix) -> np.ndarray:
    """Sorted ``row * n_cols + col`` keys of the nonzero cells of a canonical CSR."""
    row = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
    return row * m.shape[1] + m.indices


def _sample_negatives(
    users: np.ndarray, forbidden: sp.csr_matrix, n_items: int, rng: np.random.Generator, rounds: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """One uniformly drawn item per entry of ``users`` that is not a cell of ``forbidden``.

    Rejection sampling in a few vectorised rounds; draws still colliding after
    the last round are dropped (only users who interacted with nearly every item).
    """
    keys = _cell_keys(forbidden)
    out_u, out_i = [], []
    pending = users
    for _ in range(rounds):
        if len(pending) == 0:
            break
        items = rng.integers(0, n_items, size=len(pending))
        q = pending * n_items + items
        pos = np.minimum(np.searchsorted(keys, q), max(len(keys) - 1, 0))
        taken = keys[pos] == q if len(keys) else np.zeros(len(q), dtype=bool)
        out_u.append(pending[~taken])
        out_i.append(items[~taken])
        pending = pending[taken]
    return np.concatenate(out_u), np.concatenate(out_i)


def learn_weights_stacking(
    level_scores: dict[str, np.ndarray],
    exclude: sp.spmatrix | None,
    target: sp.spmatrix,
    seed: int = 0,
    n_negatives: int = 4,
    rows=None,
    C: float = 1.0,
    strategy: str = "weighted",
) -> dict[str, float]:
    """Fusion weights from a logistic regression on the levels' scores (stacking).

    Positives are the ``target`` cells, negatives ``n_negatives`` uniformly
    sampled items per positive that are neither in ``target`` nor in
    ``exclude``. The features are the levels' raw (already normalised) scores,
    so a coefficient is directly a weight of the fused linear score; negative
    coefficients are clipped to 0 (fusion weights are nonnegative) and the
    rest normalised to sum 1.

    Parameters
    ----------
    level_scores : dict of str to ndarray, shape (n_users, n_items)
        Fit on training data only.
    exclude : sparse matrix or None
        Training interactions (never sampled as negatives).
    target : sparse matrix
        Held-out positives.
    seed : int
        Seed of the negative sampling.
    n_negatives : int
        Negatives per positive.
    rows : array of int or bool, optional
        Users to use; default every user with a target item.
    C : float
        Inverse L2 regularisation strength of the logistic regression.
    strategy : {"weighted", "product"}
        The fusion the weights are for; for the product the features are ``log(score + floor)``,
        on which the product is linear.

    Returns
    -------
    dict of str to float
        Nonnegative weights summing to 1 (uniform when no coefficient is positive).
    """
    from sklearn.linear_model import LogisticRegression  # lazy: importing sklearn costs ~1 s

    check_strategy(strategy)
    levels = list(level_scores)
    target = canonical_csr(target)
    rows = _default_rows(target, rows)
    n_users, n_items = target.shape
    mask = np.zeros(n_users, dtype=bool)
    mask[rows] = True
    pos = target.tocoo()
    keep = mask[pos.row]
    pos_u, pos_i = pos.row[keep].astype(np.int64), pos.col[keep].astype(np.int64)
    if len(pos_u) == 0:
        raise ValueError("learn_weights_stacking: target has no interactions for the chosen users")
    forbidden = (
        target if exclude is None else canonical_csr(abs(target) + abs(sp.csr_matrix(exclude, dtype=np.float32)))
    )
    rng = np.random.default_rng(seed)
    neg_u, neg_i = _sample_negatives(np.repeat(pos_u, n_negatives), forbidden, n_items, rng)
    u = np.concatenate([pos_u, neg_u])
    i = np.concatenate([pos_i, neg_i])
    y = np.r_[np.ones(len(pos_u)), np.zeros(len(neg_u))]
    features = np.column_stack([_additive(np.asarray(level_scores[level])[u, i], strategy) for level in levels])
    features = features.astype(np.float64)
    model = LogisticRegression(C=C, max_iter=1000)
    model.fit(features, y)
    coef = np.clip(model.coef_.ravel(), 0.0, None)
    if coef.sum() <= 0:
        coef = np.ones(len(levels))
    coef = coef / coef.sum()
    return {level: float(c) for level, c in zip(levels, coef, strict=True)}
