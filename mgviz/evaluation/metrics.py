"""Vectorised top-N evaluation: accuracy per user and beyond-accuracy list properties.

Every function takes the recommendation lists as one int array ``top_items``
(users × K, best first, ``-1`` for "no item" padding) and works on all users
at once with numpy; no per-user Python loop, so a full MovieLens-100k
evaluation costs a few milliseconds and the app can recompute it on every
slider move.

Accuracy uses binary relevance: an item is relevant for a user when the
user's row of ``test`` has a nonzero in its column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

ACCURACY_METRICS = ("precision", "recall", "f1", "ndcg", "hit_rate", "map", "mrr")


# ---------------------------------------------------------------- helpers
def _as_rows(top_items: np.ndarray, n_users: int, rows) -> np.ndarray:
    """Row of ``test`` each row of ``top_items`` belongs to (default: the identity)."""
    if rows is None:
        if top_items.shape[0] != n_users:
            raise ValueError(
                f"top_items has {top_items.shape[0]} rows but test has {n_users} users; pass rows= to say which"
            )
        return np.arange(n_users)
    rows = np.asarray(rows)
    if rows.dtype == bool:
        rows = np.flatnonzero(rows)
    if len(rows) != top_items.shape[0]:
        raise ValueError(f"rows has {len(rows)} entries but top_items has {top_items.shape[0]} rows")
    return rows.astype(np.int64)


def canonical_csr(m: sp.spmatrix) -> sp.csr_matrix:
    """Canonical CSR (sorted, no duplicates, no explicit zeros) without touching the caller's matrix."""
    m = sp.csr_matrix(m)
    if not m.has_canonical_format or (m.data == 0).any():
        m = m.copy()
        m.sum_duplicates()
        m.eliminate_zeros()
    return m


def hit_matrix(top_items: np.ndarray, test: sp.spmatrix, rows=None) -> np.ndarray:
    """Boolean array like ``top_items``: whether each recommended item is in the user's test set.

    Parameters
    ----------
    top_items : ndarray of int, shape (n, K)
        Recommended item columns, best first; negative entries are padding (never a hit).
    test : sparse matrix, shape (n_users, n_items)
        Nonzero cells are the relevant (held-out) items.
    rows : array of int, optional
        Row of ``test`` for each row of ``top_items``; default ``arange(n_users)``.

    Returns
    -------
    ndarray of bool, shape (n, K)
    """
    top_items = np.asarray(top_items, dtype=np.int64)
    test = canonical_csr(test)
    rows = _as_rows(top_items, test.shape[0], rows)
    n_items = test.shape[1]
    # One global key per (user, item) cell: the CSR order (row, then sorted column)
    # is already ascending in this key, so membership is one searchsorted.
    row_of_nz = np.repeat(np.arange(test.shape[0], dtype=np.int64), np.diff(test.indptr))
    keys = row_of_nz * n_items + test.indices
    valid = (top_items >= 0) & (top_items < n_items)
    query = rows[:, None] * n_items + np.where(valid, top_items, 0)
    if len(keys) == 0:
        return np.zeros(top_items.shape, dtype=bool)
    pos = np.searchsorted(keys, query)
    found = keys[np.minimum(pos, len(keys) - 1)] == query
    return found & valid


def _prepare(top_items: np.ndarray, ks) -> tuple[np.ndarray, tuple[int, ...]]:
    """Validated cut-offs, and ``top_items`` padded with -1 up to the largest one.

    Lists shorter than a cut-off (a small catalogue, a user who saw almost
    everything) then simply miss, and precision still divides by ``k``.
    """
    top_items = np.asarray(top_items, dtype=np.int64)
    if top_items.ndim != 2:
        raise ValueError(f"top_items must be 2-D (users × K), got shape {top_items.shape}")
    ks = (ks,) if np.isscalar(ks) else tuple(ks)
    if not ks or min(ks) < 1:
        raise ValueError(f"ks must be positive integers, got {ks}")
    ks = tuple(int(k) for k in ks)
    missing = max(ks) - top_items.shape[1]
    if missing > 0:
        top_items = np.pad(top_items, ((0, 0), (0, missing)), constant_values=-1)
    return top_items[:, : max(ks)], ks


def _accuracy_at_k(hits: np.ndarray, n_rel: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """All accuracy metrics at cut-off ``k`` for users with ``n_rel >= 1`` (arrays, one value per user)."""
    h = hits[:, :k].astype(np.float64)
    n_hit = h.sum(axis=1)
    precision = n_hit / k
    recall = n_hit / n_rel
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(denom), where=denom > 0)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = h @ discount
    # Ideal list puts min(|test|, k) relevant items first.
    idcg = np.cumsum(discount)[np.minimum(n_rel, k).astype(np.int64) - 1]
    ranks = np.arange(1, k + 1)
    precision_at_hit = np.cumsum(h, axis=1) / ranks
    ap = (precision_at_hit * h).sum(axis=1) / np.minimum(n_rel, k)
    first = np.argmax(h > 0, axis=1)
    mrr = np.where(n_hit > 0, 1.0 / (first + 1), 0.0)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "ndcg": dcg / idcg,
        "hit_rate": (n_hit > 0).astype(np.float64),
        "map": ap,
        "mrr": mrr,
    }


def _evaluated(top_items, test, rows):
    """Hits and test sizes for the rows whose user has >= 1 test item (only they can be scored)."""
    test = canonical_csr(test)
    rows = _as_rows(top_items, test.shape[0], rows)
    n_rel = np.diff(test.indptr)[rows].astype(np.float64)
    keep = n_rel > 0
    hits = hit_matrix(top_items[keep], test, rows[keep])
    return rows[keep], hits, n_rel[keep]


# ---------------------------------------------------------------- accuracy
def per_user_metrics(top_items: np.ndarray, test: sp.spmatrix, ks=(10, 20), rows=None) -> pd.DataFrame:
    """Accuracy metrics for every user with at least one test item.

    Parameters
    ----------
    top_items : ndarray of int, shape (n, K_max)
        Recommendation lists, best first; ``-1`` pads short lists.
    test : sparse matrix, shape (n_users, n_items)
        Held-out interactions; nonzero = relevant.
    ks : int or sequence of int
        Cut-offs; lists shorter than a cut-off count as padded with ``-1``.
    rows : array of int, optional
        Row of ``test`` for each row of ``top_items`` (default: the identity).

    Returns
    -------
    pandas.DataFrame
        One row per evaluated user: ``user`` (row in ``test``), ``n_test`` and
        one column ``"{metric}@{k}"`` per metric in :data:`ACCURACY_METRICS` and cut-off.
    """
    top_items, ks = _prepare(top_items, ks)
    users, hits, n_rel = _evaluated(top_items, test, rows)
    cols: dict[str, np.ndarray] = {"user": users, "n_test": n_rel.astype(np.int64)}
    for k in ks:
        for name, values in _accuracy_at_k(hits, n_rel, k).items():
            cols[f"{name}@{k}"] = values
    return pd.DataFrame(cols)


def ranking_metrics(top_items: np.ndarray, test: sp.spmatrix, ks=(10, 20), rows=None) -> dict[int, dict[str, float]]:
    """Mean accuracy metrics over users with at least one test item.

    Definitions (binary relevance, ``R`` = the user's test items, ``h_j`` = 1 if
    the item at rank ``j`` (1-based) is in ``R``):

    - precision@k = hits / k; recall@k = hits / |R|; F1 = their harmonic mean;
    - NDCG@k = sum_j h_j / log2(j + 1), divided by the same sum for an ideal list of
      min(|R|, k) hits;
    - hit_rate@k = 1 if any hit; MRR@k = 1 / rank of the first hit (0 if none);
    - MAP@k = sum_j h_j · precision@j / min(|R|, k).

    Parameters
    ----------
    top_items, test, ks, rows
        As in :func:`per_user_metrics`.

    Returns
    -------
    dict
        ``{k: {metric: mean, ..., "n_users": number of evaluated users}}``.
    """
    top_items, ks = _prepare(top_items, ks)
    users, hits, n_rel = _evaluated(top_items, test, rows)
    out = {}
    for k in ks:
        values = _accuracy_at_k(hits, n_rel, k)
        out[k] = {name: float(v.mean()) if len(v) else float("nan") for name, v in values.items()}
        out[k]["n_users"] = len(users)
    return out


def by_group(per_user: pd.DataFrame, groups) -> pd.DataFrame:
    """Break the per-user metrics down by a user segment.

    Parameters
    ----------
    per_user : pandas.DataFrame
        Output of :func:`per_user_metrics` (needs the ``user`` column).
    groups : mapping, pandas.Series or array-like
        Segment label per user row: a dict / Series indexed by user row, or an
        array indexed by user row (length = number of users in ``test``).
        Users without a label are dropped.

    Returns
    -------
    pandas.DataFrame
        Indexed by group: ``n_users`` and the mean of every metric column.
    """
    users = per_user["user"].to_numpy()
    if isinstance(groups, dict):
        labels = pd.Series(users).map(groups)
    elif isinstance(groups, pd.Series):
        labels = pd.Series(groups.reindex(users).to_numpy())
    else:
        labels = pd.Series(np.asarray(groups, dtype=object)[users])
    metric_cols = [c for c in per_user.columns if c not in ("user",)]
    frame = per_user[metric_cols].reset_index(drop=True).assign(group=labels.to_numpy())
    frame = frame[frame["group"].notna()]
    grouped = frame.groupby("group", sort=True)
    out = grouped[metric_cols].mean()
    out.insert(0, "n_users", grouped.size())
    return out


# ---------------------------------------------------------------- beyond accuracy
def _cut(top_items: np.ndarray, k: int | None) -> np.ndarray:
    top_items = np.asarray(top_items, dtype=np.int64)
    return top_items if k is None else top_items[:, :k]


def item_popularity(train: sp.spmatrix) -> np.ndarray:
    """Number of distinct training users per item (the popularity every metric below uses)."""
    train = sp.csr_matrix(train)
    binary = train.copy()
    binary.eliminate_zeros()
    return np.bincount(binary.indices, minlength=train.shape[1]).astype(np.float64)


def coverage(top_items: np.ndarray, n_items: int, k: int | None = None) -> float:
    """Catalogue coverage: fraction of the ``n_items`` items that appear in at least one list."""
    t = _cut(top_items, k)
    shown = np.unique(t[(t >= 0) & (t < n_items)])
    return len(shown) / n_items if n_items else float("nan")


def _pair_mean(sim: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per-row mean of ``sim[u, a, b]`` over pairs a < b of valid positions (NaN when < 2 valid)."""
    k = sim.shape[1]
    upper = np.triu(np.ones((k, k), dtype=bool), 1)
    mask = valid[:, :, None] & valid[:, None, :] & upper
    n_pairs = mask.sum(axis=(1, 2))
    total = np.where(mask, sim, 0.0).sum(axis=(1, 2))
    return np.divide(total, n_pairs, out=np.full(len(total), np.nan), where=n_pairs > 0)


def category_matrix(categories, n_items: int | None = None) -> sp.csr_matrix:
    """Binary item × category CSR from a sequence of category lists (e.g. ``items["categories"]``)."""
    categories = list(categories)
    names: dict[str, int] = {}
    indptr, indices = [0], []
    for cats in categories:
        cols = {names.setdefault(c, len(names)) for c in (cats if cats is not None else [])}
        indices.extend(sorted(cols))
        indptr.append(len(indices))
    n = len(categories) if n_items is None else n_items
    data = np.ones(len(indices), dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(n, max(len(names), 1)))


def interest_coverage(top_items: np.ndarray, test: sp.spmatrix, item_categories, k: int | None = None) -> float:
    """Coverage of each user's interest range: the share of the categories of a user's held-out
    items that the list touches, averaged over users with categorised test items.

    ``item_categories`` is a sequence of category lists or an items × categories matrix.
    """
    cats = item_categories if sp.issparse(item_categories) else category_matrix(item_categories)
    cats = (sp.csr_matrix(cats) > 0).astype(np.float32)
    lists = _cut(top_items, k)
    n_users, n_items = lists.shape[0], cats.shape[0]
    valid = lists >= 0
    rows = np.repeat(np.arange(n_users), lists.shape[1])[valid.ravel()]
    listed = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, lists[valid])), shape=(n_users, n_items))
    wanted = (sp.csr_matrix(test) @ cats) > 0
    got = (listed @ cats) > 0
    n_wanted = np.asarray(wanted.sum(axis=1)).ravel()
    n_hit = np.asarray(wanted.multiply(got).sum(axis=1)).ravel()
    keep = n_wanted > 0
    return float((n_hit[keep] / n_wanted[keep]).mean()) if keep.any() else float("nan")


def _list_diversity(top_items: np.ndarray, gram, sizes: np.ndarray | None, batch: int) -> np.ndarray:
    """Per-user mean pairwise distance within each list.

    ``gram(block)`` gives the (b, k, k) inner products of the items of a block
    of lists. With ``sizes`` (set sizes per item) the distance is Jaccard on
    binary vectors, otherwise cosine on unit vectors.
    """
    valid = top_items >= 0
    safe = np.where(valid, top_items, 0)
    out = np.empty(len(top_items))
    for start in range(0, len(top_items), batch):
        block = safe[start : start + batch]
        inter = gram(block)
        if sizes is not None:
            size = sizes[block].astype(np.float64)
            union = size[:, :, None] + size[:, None, :] - inter
            # Two items that both have no category are treated as identical (distance 0).
            dist = np.where(union > 0, 1.0 - inter / np.where(union > 0, union, 1.0), 0.0)
        else:
            dist = 1.0 - inter
        out[start : start + batch] = _pair_mean(dist, valid[start : start + batch])
    return out


def _dense_gram(vectors: np.ndarray):
    def gram(block: np.ndarray) -> np.ndarray:
        v = vectors[block]
        return np.einsum("ukd,uld->ukl", v, v)

    return gram


def _sparse_gram(binary: sp.csr_matrix):
    """Set intersections via a sparse product, so thousands of tags never become a dense item × tag array."""

    def gram(block: np.ndarray) -> np.ndarray:
        b, k = block.shape
        m = binary[block.ravel()]
        full = (m @ m.T).toarray().reshape(b, k, b, k)
        own = np.arange(b)
        # Only each list with itself: the diagonal blocks.
        return full[own, :, own, :]

    return gram


def intra_list_diversity(
    top_items: np.ndarray,
    item_categories=None,
    embeddings: np.ndarray | None = None,
    k: int | None = None,
    batch: int = 512,
) -> float:
    """Mean (over users) of the mean pairwise distance between the items of each list.

    Exactly one of ``item_categories`` (Jaccard distance of category sets) and
    ``embeddings`` (cosine distance) must be given.

    Parameters
    ----------
    top_items : ndarray of int, shape (n, K)
    item_categories : sparse matrix or sequence of lists, optional
        Binary item × category matrix, or one category list per item column.
    embeddings : ndarray, shape (n_items, d), optional
        Item vectors; zero vectors count as orthogonal to everything.
    k : int, optional
        Only the first ``k`` ranks.
    batch : int
        Users per block for embeddings (bounds memory at ``batch × k × d``).

    Returns
    -------
    float
        NaN when no list has two items.
    """
    t = _cut(top_items, k)
    if (item_categories is None) == (embeddings is None):
        raise ValueError("intra_list_diversity needs exactly one of item_categories or embeddings")
    if item_categories is not None:
        cats = item_categories if sp.issparse(item_categories) else category_matrix(item_categories)
        binary = sp.csr_matrix(sp.csr_matrix(cats) > 0, dtype=np.float32)
        sizes = np.diff(binary.indptr)
        if binary.shape[1] <= 256:  # few categories (genres): dense gather is fastest
            per_user = _list_diversity(t, _dense_gram(binary.toarray()), sizes, batch)
        else:
            # A block's product is (batch·k)² dense cells: keep it around a few million.
            per_user = _list_diversity(t, _sparse_gram(binary), sizes, max(1, 2048 // max(t.shape[1], 1)))
    else:
        e = np.asarray(embeddings, dtype=np.float32)
        norm = np.linalg.norm(e, axis=1, keepdims=True)
        per_user = _list_diversity(t, _dense_gram(e / np.where(norm > 0, norm, 1.0)), None, batch)
    return float(np.nanmean(per_user)) if np.isfinite(per_user).any() else float("nan")


def novelty(top_items: np.ndarray, train: sp.spmatrix, k: int | None = None) -> float:
    """Mean self-information ``-log2(p_i)`` of the recommended items.

    ``p_i`` is the share of training users who interacted with item ``i``,
    add-one smoothed (``(n_i + 1) / (n_users + 1)``) so items never seen in
    training have a finite, maximal novelty.
    """
    t = _cut(top_items, k)
    train = sp.csr_matrix(train)
    pop = item_popularity(train)
    info = -np.log2((pop + 1.0) / (train.shape[0] + 1.0))
    valid = t >= 0
    return float(info[t[valid]].mean()) if valid.any() else float("nan")


def average_popularity(top_items: np.ndarray, train: sp.spmatrix, k: int | None = None) -> float:
    """Average recommendation popularity (ARP): mean over users of the mean training popularity of their list."""
    t = _cut(top_items, k)
    pop = item_popularity(train)
    valid = t >= 0
    per_user_sum = np.where(valid, pop[np.where(valid, t, 0)], 0.0).sum(axis=1)
    n = valid.sum(axis=1)
    per_user = per_user_sum[n > 0] / n[n > 0]
    return float(per_user.mean()) if len(per_user) else float("nan")


def gini(values: np.ndarray) -> float:
    """Gini index of nonnegative ``values`` (0 = all equal, → 1 = one value holds everything)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    n, total = len(x), x.sum()
    if n == 0 or total <= 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(((2 * ranks - n - 1) * x).sum() / (n * total))


def recommendation_gini(top_items: np.ndarray, n_items: int, k: int | None = None) -> float:
    """Gini index of how often each catalogue item is recommended (items never shown count as 0)."""
    t = _cut(top_items, k)
    counts = np.bincount(t[(t >= 0) & (t < n_items)], minlength=n_items)
    return gini(counts)


def personalisation(
    top_items: np.ndarray,
    n_items: int,
    k: int | None = None,
    measure: str = "jaccard",
    max_users: int = 1000,
    seed: int = 0,
) -> float:
    """``1 -`` mean pairwise similarity between users' lists (1 = nobody shares an item).

    Parameters
    ----------
    top_items : ndarray of int, shape (n, K)
    n_items : int
    k : int, optional
        Only the first ``k`` ranks.
    measure : {"jaccard", "overlap"}
        ``|A ∩ B| / |A ∪ B|`` or ``|A ∩ B| / min(|A|, |B|)``.
    max_users : int
        Above this many lists, a seeded sample of this size is compared
        (pairs grow quadratically).
    seed : int
        Seed of that sample.
    """
    t = _cut(top_items, k)
    if measure not in ("jaccard", "overlap"):
        raise ValueError(f"measure must be 'jaccard' or 'overlap', got {measure!r}")
    if len(t) > max_users:
        pick = np.sort(np.random.default_rng(seed).choice(len(t), size=max_users, replace=False))
        t = t[pick]
    valid = (t >= 0) & (t < n_items)
    rows = np.repeat(np.arange(len(t)), valid.sum(axis=1))
    m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, t[valid])), shape=(len(t), n_items))
    m.data[:] = 1.0  # a list repeating an item still counts it once
    size = np.asarray(m.sum(axis=1)).ravel()
    inter = (m @ m.T).toarray()
    if measure == "jaccard":
        denom = size[:, None] + size[None, :] - inter
    else:
        denom = np.minimum(size[:, None], size[None, :])
    sim = np.divide(inter, denom, out=np.zeros_like(inter), where=denom > 0)
    iu = np.triu_indices(len(t), 1)
    return float(1.0 - sim[iu].mean()) if len(iu[0]) else float("nan")


def beyond_accuracy(
    top_items: np.ndarray,
    train: sp.spmatrix,
    k: int | None = None,
    item_categories=None,
    embeddings: np.ndarray | None = None,
    max_users: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """All list-property metrics in one dict (the diversity ones only when their input is given).

    Keys: ``coverage``, ``novelty``, ``avg_popularity``, ``gini``,
    ``personalisation`` and, optionally, ``ild_category``, ``ild_embedding``.
    """
    n_items = sp.csr_matrix(train).shape[1]
    out = {
        "coverage": coverage(top_items, n_items, k),
        "novelty": novelty(top_items, train, k),
        "avg_popularity": average_popularity(top_items, train, k),
        "gini": recommendation_gini(top_items, n_items, k),
        "personalisation": personalisation(top_items, n_items, k, max_users=max_users, seed=seed),
    }
    if item_categories is not None:
        out["ild_category"] = intra_list_diversity(top_items, item_categories=item_categories, k=k)
    if embeddings is not None:
        out["ild_embedding"] = intra_list_diversity(top_items, embeddings=embeddings, k=k)
    return out
