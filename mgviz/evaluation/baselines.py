"""Reference recommenders to put the fused levels in context.

Each baseline is fit on a TRAIN user × item matrix only and returns a dense
users × items float32 score array (higher = better), the same shape the
levels hand to :func:`mgviz.fusion.top_n`. Interactions are binarised: the
baselines model "did the user interact", like the evaluation does.

The item-item baselines build a dense items × items matrix, so they suit
catalogues up to roughly 10-20k items.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def _binary(train: sp.spmatrix) -> sp.csr_matrix:
    x = sp.csr_matrix(train, dtype=np.float64, copy=True)
    x.sum_duplicates()
    x.eliminate_zeros()
    x.data[:] = 1.0
    return x


def most_popular(train: sp.spmatrix) -> np.ndarray:
    """Every user gets the items ranked by how many training users interacted with them."""
    x = _binary(train)
    pop = np.asarray(x.sum(axis=0), dtype=np.float32).ravel()
    return np.tile(pop, (x.shape[0], 1))


def ease(train: sp.spmatrix, l2: float = 500.0) -> np.ndarray:
    """EASE^R (Steck 2019): a closed-form item-item linear autoencoder with a zero diagonal.

    ``P = (XᵀX + λI)⁻¹``, ``B = I − P · diag(1 / diag(P))`` (so ``B_jj = 0``),
    scores ``= X B``.

    Parameters
    ----------
    train : sparse matrix, shape (n_users, n_items)
        Training interactions (binarised).
    l2 : float
        The L2 penalty λ; larger for denser data.

    Returns
    -------
    ndarray of float32, shape (n_users, n_items)
    """
    from mgviz.levels.micro import ease_item_weights

    x = _binary(train)
    return np.asarray(x @ ease_item_weights(x, l2), dtype=np.float32)


def item_knn(train: sp.spmatrix, k: int = 100, shrink: float = 10.0) -> np.ndarray:
    """Item-based k-nearest-neighbours with (shrunk) cosine similarity.

    ``sim(i, j) = |U_i ∩ U_j| / (sqrt(|U_i| |U_j|) + shrink)``; every target
    item keeps its ``k`` most similar items, and a user's score for item ``j``
    is the sum of ``sim(i, j)`` over the items ``i`` they interacted with.

    Parameters
    ----------
    train : sparse matrix, shape (n_users, n_items)
    k : int
        Neighbours kept per item.
    shrink : float
        Added to the denominator so similarities resting on few co-occurrences shrink.

    Returns
    -------
    ndarray of float32, shape (n_users, n_items)
    """
    x = _binary(train)
    co = (x.T @ x).toarray()
    norm = np.sqrt(np.diag(co))
    sim = co / (np.outer(norm, norm) + shrink + 1e-12)
    np.fill_diagonal(sim, 0.0)
    n_items = sim.shape[0]
    if k < n_items:
        # Column j holds the similarities of every item to target j: keep the k largest per column.
        drop = np.argpartition(-sim, k, axis=0)[k:, :]
        np.put_along_axis(sim, drop, 0.0, axis=0)
    return np.asarray(x @ sim, dtype=np.float32)


BASELINES = {"popular": most_popular, "ease": ease, "itemknn": item_knn}
