"""Reference recommenders to put the fused levels in context.

Each baseline is fit on a TRAIN user × item matrix only and returned as a fitted level
(:class:`mgviz.levels.base.Level`): it scores a block of users on demand, like the fused
levels, so no users × items array is made. Interactions are binarised: the baselines model
"did the user interact", like the evaluation does.

EASE and the dense item-kNN build an items × items matrix; above
:data:`mgviz.levels.micro.EASE_MAX_ITEMS` items EASE is left out and item-kNN uses sparse
cosine neighbours (implicit's all-pairs kNN).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mgviz.levels.base import FactorLevel, Level
from mgviz.levels.micro import EASE_MAX_ITEMS, ItemItemLevel, ease_item_weights, knn_item_weights


def _binary(train: sp.spmatrix) -> sp.csr_matrix:
    x = sp.csr_matrix(train, dtype=np.float64, copy=True)
    x.sum_duplicates()
    x.eliminate_zeros()
    x.data[:] = 1.0
    return x


def most_popular(train: sp.spmatrix) -> Level:
    """Every user gets the items ranked by how many training users interacted with them."""
    x = _binary(train)
    pop = np.asarray(x.sum(axis=0), dtype=np.float32).ravel()
    return FactorLevel("popular", x.shape[1], {"model": "popular"}, user_side=np.ones((x.shape[0], 1), np.float32),
                       item_side=pop[:, None])  # fmt: skip


def ease(train: sp.spmatrix, l2: float = 500.0) -> Level:
    """EASE^R (Steck 2019): a closed-form item-item linear autoencoder with a zero diagonal.

    ``P = (XᵀX + λI)⁻¹``, ``B = I − P · diag(1 / diag(P))`` (so ``B_jj = 0``),
    scores ``= X B``.

    Parameters
    ----------
    train : sparse matrix, shape (n_users, n_items)
        Training interactions (binarised).
    l2 : float
        The L2 penalty λ; larger for denser data.
    """
    x = _binary(train).astype(np.float32)
    return ItemItemLevel("ease", x.shape[1], {"model": "ease", "l2": l2}, history=x, weights=ease_item_weights(x, l2))


def item_knn(train: sp.spmatrix, k: int = 100, shrink: float = 10.0) -> Level:
    """Item-based k-nearest-neighbours with (shrunk) cosine similarity.

    ``sim(i, j) = |U_i ∩ U_j| / (sqrt(|U_i| |U_j|) + shrink)``; every target
    item keeps its ``k`` most similar items, and a user's score for item ``j``
    is the sum of ``sim(i, j)`` over the items ``i`` they interacted with.
    Above :data:`EASE_MAX_ITEMS` items: plain cosine, ``k`` sparse neighbours per item.
    """
    x = _binary(train).astype(np.float32)
    n_items = x.shape[1]
    if n_items > EASE_MAX_ITEMS:
        sim = knn_item_weights(x, k)
        return ItemItemLevel("itemknn", n_items, {"model": "knn", "neighbours": k}, history=x, weights=sim)
    co = (x.T @ x).toarray().astype(np.float64)
    norm = np.sqrt(np.diag(co))
    sim = co / (np.outer(norm, norm) + shrink + 1e-12)
    np.fill_diagonal(sim, 0.0)
    if k < n_items:
        # Column j holds the similarities of every item to target j: keep the k largest per column.
        drop = np.argpartition(-sim, k, axis=0)[k:, :]
        np.put_along_axis(sim, drop, 0.0, axis=0)
    return ItemItemLevel("itemknn", n_items, {"model": "knn", "neighbours": k, "shrink": shrink}, history=x,
                         weights=sim.astype(np.float32))  # fmt: skip


def baseline_levels(train: sp.spmatrix, tuned: dict | None = None) -> dict[str, Level]:
    """The baselines shown beside the fused list (EASE only where its items × items inverse fits),
    with the settings ``tuned`` on validation (``{"ease": {"l2": …}, "itemknn": {"neighbours": …}}``)."""
    tuned = tuned or {}
    out = {"popular": most_popular(train)}
    if train.shape[1] <= EASE_MAX_ITEMS:
        out["ease"] = ease(train, **tuned.get("ease", {}))
    knn = tuned.get("itemknn", {})
    out["itemknn"] = item_knn(train, k=knn.get("neighbours", 100))
    return out


BASELINES = {"popular": most_popular, "ease": ease, "itemknn": item_knn}
