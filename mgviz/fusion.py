"""Fusion of the levels' scores: P(i|u) = sum_l w_l * P_l(i|u).

Every level scores a block of users on demand with *comparable* scores (per-user
normalised to [0, 1]); :func:`recommend` fuses and ranks a bounded block of users
at a time, so no users × items array ever exists. :func:`fuse` and :func:`top_n`
work on such blocks (or on a sample's score arrays, as tuning does).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mgviz.config import STRATEGIES
from mgviz.schema import LEVELS, OPTIONAL_LEVELS


def parse_weights(spec: str | dict | None) -> dict[str, float] | str:
    """``"macro=0.3,micro=0.7"`` -> dict (levels not named get 0); ``"auto"`` stays ``"auto"``.

    Raises ``ValueError`` naming the bad part.
    """
    if spec is None:
        return "auto"
    if isinstance(spec, dict):
        parts = spec
    else:
        spec = spec.strip()
        if spec == "auto":
            return "auto"
        parts = {}
        for chunk in spec.split(","):
            if not chunk.strip():
                continue
            if "=" not in chunk:
                raise ValueError(f"weights: '{chunk}' should look like level=number (levels: {', '.join(LEVELS)})")
            name, value = (s.strip() for s in chunk.split("=", 1))
            try:
                parts[name] = float(value)
            except ValueError:
                raise ValueError(f"weights: '{value}' for {name} is not a number") from None
    # a level only some runs have (social: with a friends file) is listed when named
    weights = {level: 0.0 for level in LEVELS if level not in OPTIONAL_LEVELS}
    for name, value in parts.items():
        if name not in LEVELS:
            raise ValueError(f"weights: unknown level '{name}' (levels: {', '.join(LEVELS)})")
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"weights: {name}={value} must be a finite number >= 0")
        weights[name] = float(value)
    if sum(weights.values()) <= 0:
        raise ValueError("weights: at least one level needs a weight > 0")
    return weights


def normalise_per_user(scores: np.ndarray, out: str | None = None) -> np.ndarray:
    """Min-max scale each row to [0, 1] (constant rows become 0). Returns float32.

    ``out="inplace"`` reuses ``scores``' memory when it is already a float32 array. The levels
    normalise with the same function (:func:`mgviz.levels.base.normalise_rows`).
    """
    from mgviz.levels.base import normalise_rows

    inplace = out == "inplace" and isinstance(scores, np.ndarray) and scores.dtype == np.float32
    return normalise_rows(scores if inplace else np.array(scores, dtype=np.float32, copy=True))


#: Scores held at once by :func:`recommend` over all levels (4M float32 = 16 MB).
FUSION_CELLS = 4_000_000

PRODUCT_FLOOR = np.float32(0.01)  # a level's 0 must not veto an item outright


def fuse(
    level_scores: dict[str, np.ndarray],
    weights: dict[str, float],
    rows=None,
    strategy: str = "weighted",
    coverage: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Fuse the levels' normalised score arrays (optionally only ``rows``).

    ``strategy="weighted"`` (default): sum_l w_l · s_l. ``strategy="product"``:
    the weighted geometric mean prod_l (s_l + ε)^w_l, which favours items every
    level agrees on. Weights are rescaled to sum 1 either way – per user when ``coverage``
    (level -> bool per row of the arrays) says a level knows nothing of some users (the social
    level for a user without friends): their list is fused from the other levels alone.
    """
    check_strategy(strategy)
    total = sum(weights.get(level, 0.0) for level in level_scores)
    if total <= 0:
        raise ValueError("weights: at least one level needs a weight > 0")
    shares = row_shares(level_scores, weights, coverage)
    out = None
    for level, arr in level_scores.items():
        w = shares[level]
        if not np.any(w):
            continue
        part = arr if rows is None else arr[rows]
        if np.ndim(w):
            w = w[:, None] if rows is None else w[rows][:, None]
        if strategy == "product":
            part = np.log(part + PRODUCT_FLOOR)
        out = part * np.float32(w) if out is None else out + part * np.float32(w)
        if np.ndim(w):
            out = out.astype(np.float32, copy=False)
    return np.exp(out) if strategy == "product" else out


def row_shares(level_scores: dict, weights: dict[str, float], coverage: dict[str, np.ndarray] | None = None) -> dict:
    """Each level's share of the fusion: ``w_l / Σ w`` (a number), or per row (an array) when ``coverage``
    leaves a level out of some rows – those rows' shares are rescaled over the levels that cover them."""
    names = list(level_scores)
    total = sum(weights.get(level, 0.0) for level in names) or 1.0
    partial = {lv: np.asarray(m, bool) for lv, m in (coverage or {}).items()
               if lv in level_scores and weights.get(lv, 0.0) > 0 and not np.all(m)}  # fmt: skip
    if not partial:
        return {lv: weights.get(lv, 0.0) / total for lv in names}
    n = len(next(iter(partial.values())))
    per_row = {lv: np.where(partial[lv], weights[lv], 0.0) if lv in partial else np.full(n, weights.get(lv, 0.0))
               for lv in names}  # fmt: skip
    row_total = sum(per_row.values())
    row_total = np.where(row_total > 0, row_total, total)  # only uncovered levels weighted: all zero, as before
    return {lv: (w / row_total).astype(np.float32) for lv, w in per_row.items()}


def coverage_of(levels, rows) -> dict[str, np.ndarray]:
    """Which of users ``rows`` each level knows something about (levels without ``covers``: all)."""
    return {name: lv.covers(rows) for name, lv in levels.items() if hasattr(lv, "covers")}


def check_strategy(strategy: str) -> None:
    """``ValueError`` naming the choices when ``strategy`` is not a fusion strategy."""
    if strategy not in STRATEGIES:
        raise ValueError(f"fusion strategy {strategy!r} should be one of {', '.join(STRATEGIES)}")


def _sort_keys(scores: np.ndarray) -> np.ndarray:
    """Unique int64 keys ordering like the float scores, ties broken by lower item index.

    The float32 bit pattern of a number is monotone in its value once negative
    numbers have their magnitude bits flipped; the item index goes in the low bits.
    """
    bits = np.ascontiguousarray(scores, dtype=np.float32).view(np.int32).astype(np.int64)
    np.bitwise_xor(bits, 0x7FFFFFFF, out=bits, where=bits < 0)  # in place: this runs on every slider move
    n_items = scores.shape[1]
    bits *= n_items
    bits += (n_items - 1 - np.arange(n_items, dtype=np.int64))[None, :]
    return bits


def top_n(scores: np.ndarray, n: int, exclude: sp.csr_matrix | None = None, rows=None) -> np.ndarray:
    """Indices of the ``n`` best items per row, best first; items in ``exclude`` never appear.

    Equal scores are ordered by item index (lower first), so lists are deterministic.
    A row with fewer than ``n`` items left after exclusion is padded with -1.
    """
    scores = np.array(scores, dtype=np.float32, copy=True)
    excluded = np.zeros(scores.shape, dtype=bool)
    if exclude is not None:
        ex = (exclude if rows is None else exclude[rows]).tocoo()
        excluded[ex.row, ex.col] = True
        scores[excluded] = -np.inf
    n = max(0, min(n, scores.shape[1]))
    if n == 0:
        return np.zeros((scores.shape[0], 0), dtype=np.int64)
    keys = _sort_keys(scores)
    n_items = scores.shape[1]
    if n < n_items:
        part = np.argpartition(keys, n_items - n, axis=1)[:, n_items - n :]  # the n largest, unordered
    else:
        part = np.tile(np.arange(scores.shape[1]), (scores.shape[0], 1))
    order = np.argsort(-np.take_along_axis(keys, part, axis=1), axis=1)
    top = np.take_along_axis(part, order, axis=1)
    top[np.take_along_axis(excluded, top, axis=1)] = -1
    return top


def recommend(
    levels, weights, seen, user_ids, item_ids, n=10, rows=None, strategy="weighted", diversity=0.0, item_vectors=None
) -> pd.DataFrame:
    """Top-``n`` fused lists of users ``rows`` (default all) with each level's contribution.

    ``levels`` maps names to fitted levels (:class:`mgviz.levels.base.Level`). Contributions are
    weight × normalised level score; with the weighted strategy they add up to the score, with
    the product strategy they still show each level's share of the evidence. Users are fused
    and ranked a block at a time (:data:`mgviz.levels.base.BLOCK_CELLS` scores per level).

    ``diversity`` > 0 re-ranks each block's lists by MMR (:func:`mgviz.rerank.rerank`) with λ =
    ``diversity`` over ``item_vectors`` (items × d); ranks then follow the re-ranked order while
    ``score`` stays the fused score.
    """
    from mgviz.levels.base import iter_blocks
    from mgviz.rerank import check_diversity, rerank

    check_strategy(strategy)
    diversity = check_diversity(diversity)
    if diversity > 0 and item_vectors is None:
        raise ValueError("diversity > 0 needs item_vectors to measure similarity on")
    n_items = len(item_ids)
    row_idx = np.arange(len(user_ids)) if rows is None else np.asarray(rows, dtype=np.int64)
    frames = []
    # the block holds every weighted level's scores at once: the same memory whatever their number
    active = max(1, sum(1 for name in levels if weights.get(name, 0.0) > 0))
    cells = max(n_items, FUSION_CELLS // active)
    for block in iter_blocks(row_idx, n_items, cells):
        parts = {name: lv.score(block) for name, lv in levels.items() if weights.get(name, 0.0) > 0}
        coverage = coverage_of(levels, block)
        shares = row_shares(parts, weights, coverage)
        fused = fuse(parts, weights, strategy=strategy, coverage=coverage)
        top = rerank(fused, n, item_vectors, diversity, exclude=seen[block])  # λ = 0: top_n's lists
        frames.append(_list_frame(block, top, fused, parts, shares, user_ids, item_ids, levels))
    if not frames:
        return _list_frame(row_idx, np.zeros((0, n), np.int64), None, {}, {}, user_ids, item_ids, levels)
    return pd.concat(frames, ignore_index=True)


def recommend_state(
    levels, states, weights, seen_row, user_id, item_ids, n=10, strategy="weighted", diversity=0.0, item_vectors=None
) -> pd.DataFrame:
    """:func:`recommend` for one user who is not a row of the levels: their user-side ``states`` (level
    name -> what :meth:`~mgviz.levels.base.Level.fold_in` gave), scored with ``score_state`` – a new or
    changed user's list without adding them to any level. ``seen_row`` (1 × items) is never listed."""
    from mgviz.rerank import check_diversity, rerank

    check_strategy(strategy)
    diversity = check_diversity(diversity)
    if diversity > 0 and item_vectors is None:
        raise ValueError("diversity > 0 needs item_vectors to measure similarity on")
    parts = {name: lv.score_state(states[name]) for name, lv in levels.items() if weights.get(name, 0.0) > 0}
    coverage = {name: np.asarray([sp.csr_matrix(states[name]["adjacency"]).nnz > 0])
                for name, lv in levels.items() if hasattr(lv, "covers") and name in states}  # fmt: skip
    shares = row_shares(parts, weights, coverage)
    fused = fuse(parts, weights, strategy=strategy, coverage=coverage)
    top = rerank(fused, n, item_vectors, diversity, exclude=sp.csr_matrix(seen_row))
    return _list_frame(np.zeros(1, np.int64), top, fused, parts, shares, [user_id], item_ids, levels)


def _list_frame(block, top, fused, parts, shares, user_ids, item_ids, levels):
    valid = top.ravel() >= 0  # -1 pads a user who has seen almost everything
    r = np.repeat(block, top.shape[1])[valid]
    c = top.ravel()[valid]
    local = np.repeat(np.arange(top.shape[0]), top.shape[1])[valid]
    frame = {
        "user_id": np.asarray(user_ids)[r],
        "rank": np.tile(np.arange(1, top.shape[1] + 1), top.shape[0])[valid],
        "item_id": np.asarray(item_ids)[c],
        "score": np.round(fused[local, c], 6) if fused is not None else np.zeros(0),
    }
    for level in LEVELS:  # one column per level of the run (a run without friends has no social column)
        if level in parts:
            share = shares[level]
            share = share[local] if np.ndim(share) else share
            frame[level] = np.round(parts[level][local, c] * share, 6)
        elif level in levels:
            frame[level] = np.zeros(len(r))
    return pd.DataFrame(frame)
