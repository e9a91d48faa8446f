"""Semantic level: how close an item's text is to the user's own text / profile.

Both sides come from the same encoder. A user's profile embedding is their own
words (profile text, reviews) when they wrote any, blended with the centre of
what they consumed; a user with no words is matched on consumption alone.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mgviz.levels.common import l2_normalise, row_normalise


def consumption_embedding(weighted: sp.csr_matrix, item_embeddings: np.ndarray) -> np.ndarray:
    """Behaviour-weighted mean of consumed items' embeddings, L2-normalised."""
    return l2_normalise(np.asarray(row_normalise(weighted) @ item_embeddings))


def profile_embedding(
    own_text_embeddings: np.ndarray, consumed_embeddings: np.ndarray, own_weight: float = 0.5
) -> np.ndarray:
    """Blend of the user's own-text embedding and consumption embedding (whichever exist)."""
    has_own = np.abs(own_text_embeddings).sum(axis=1) > 0
    w = np.where(has_own, own_weight, 0.0).astype(np.float32)[:, None]
    return l2_normalise(w * own_text_embeddings + (1 - w) * consumed_embeddings)


def semantic_scores(profiles: np.ndarray, item_embeddings: np.ndarray) -> np.ndarray:
    """Cosine similarity of every user profile to every item."""
    return (l2_normalise(profiles) @ l2_normalise(item_embeddings).T).astype(np.float32)


SEMANTIC_MODELS = ("cosine", "learned")


def learned_scores(
    profiles: np.ndarray,
    item_embeddings: np.ndarray,
    positives: sp.csr_matrix,
    seed: int = 0,
    n_negatives: int = 4,
    max_positives: int = 50_000,
) -> np.ndarray:
    """R(u, i) = σ(W · [e(u), e(i), e(u) ⊙ e(i)]), the design articles' learned interest score.

    W is a logistic regression fit on the training interactions (``positives``)
    against sampled non-interactions. The product block is what makes the score
    personal: with [e(u), e(i)] alone every user would get the same item ranking.
    """
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    pos = positives.tocoo()
    if pos.nnz == 0:
        return semantic_scores(profiles, item_embeddings)
    take = rng.permutation(pos.nnz)[:max_positives]
    pu, pi = pos.row[take], pos.col[take]
    nu = np.repeat(pu, n_negatives)
    ni = rng.integers(0, item_embeddings.shape[0], len(nu))
    keep = np.asarray(positives[nu, ni]).ravel() == 0  # a sampled "negative" the user did consume is dropped
    users = np.concatenate([pu, nu[keep]])
    items = np.concatenate([pi, ni[keep]])
    y = np.concatenate([np.ones(len(pu)), np.zeros(int(keep.sum()))])
    p, e = l2_normalise(profiles), l2_normalise(item_embeddings)
    x = np.hstack([p[users], e[items], p[users] * e[items]])
    clf = LogisticRegression(C=1.0, max_iter=300, random_state=seed).fit(x, y)
    dim = p.shape[1]
    w_u, w_i, w_x = clf.coef_[0, :dim], clf.coef_[0, dim : 2 * dim], clf.coef_[0, 2 * dim :]
    logits = (p @ w_u)[:, None] + (e @ w_i)[None, :] + (p * w_x) @ e.T + clf.intercept_[0]
    return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
