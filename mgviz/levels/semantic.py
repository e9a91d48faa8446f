"""Semantic level: how close an item's text is to the user's own text / profile.

Both sides come from the same encoder. A user's profile embedding is their own
words (profile text, reviews) when they wrote any, blended with the centre of
what they consumed; a user with no words is matched on consumption alone.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mgviz.config import SEMANTIC_MODELS
from mgviz.levels.base import Level
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


class SemanticLevel(Level):
    """How close an item's text is to the user's profile, from the same encoder.

    ``model="cosine"``: cos(e(u), e(i)). ``model="learned"``: σ(W · [e(u), e(i), e(u) ⊙ e(i)] + b),
    the design articles' learned interest score (W fit by :func:`fit_learned`). State: every
    user's profile embedding (user side), the item embeddings and W (item side). Folding a
    user in recomputes their profile from their own text and what they consumed.
    """

    kind = "semantic"
    user_arrays = ("profile",)
    item_arrays = ("item_embeddings", "coef")

    @classmethod
    def fit(cls, profiles, item_embeddings, model="cosine", seen=None, seed=0, own_weight=0.5, name="semantic"):
        if model not in SEMANTIC_MODELS:
            raise ValueError(f"semantic_model={model!r} should be one of {', '.join(SEMANTIC_MODELS)}")
        p, e = l2_normalise(profiles), l2_normalise(item_embeddings)
        coef = fit_learned(p, e, seen, seed) if model == "learned" and seen is not None and seen.nnz else None
        params = {"model": "learned" if coef is not None else "cosine", "own_weight": own_weight}
        return cls(name, len(e), params, profile=p, item_embeddings=e, coef=coef)

    def _raw(self, users: dict, items=None) -> np.ndarray:
        e = self.item_embeddings if items is None else self.item_embeddings[np.asarray(items, dtype=np.int64)]
        p = np.asarray(users["profile"], dtype=np.float32)
        if self.coef is None:
            return np.asarray(p @ e.T, dtype=np.float32)
        dim = p.shape[1]
        w_u, w_i, w_x, b = self.coef[:dim], self.coef[dim : 2 * dim], self.coef[2 * dim : 3 * dim], self.coef[-1]
        logits = (p @ w_u)[:, None] + (e @ w_i)[None, :] + (p * w_x) @ e.T + b
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)

    def fold_in(self, evidence) -> dict:
        consumed = consumption_embedding(sp.csr_matrix(evidence.weighted), self.item_embeddings)
        profile = profile_embedding(np.atleast_2d(evidence.text_embedding), consumed, self.params["own_weight"])[0]
        evidence.derived["profile"] = profile
        return {"profile": profile}


def fit_learned(
    p: np.ndarray, e: np.ndarray, positives: sp.csr_matrix, seed: int = 0, n_negatives: int = 4,
    max_positives: int = 50_000,
) -> np.ndarray:  # fmt: skip
    """W and b of σ(W · [e(u), e(i), e(u) ⊙ e(i)] + b), as one vector ``[w_u, w_i, w_x, b]``.

    A logistic regression fit on the training interactions (``positives``) against sampled
    non-interactions. The product block is what makes the score personal: with [e(u), e(i)]
    alone every user would get the same item ranking.
    """
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    pos = positives.tocoo()
    take = rng.permutation(pos.nnz)[:max_positives]
    pu, pi = pos.row[take], pos.col[take]
    nu = np.repeat(pu, n_negatives)
    ni = rng.integers(0, e.shape[0], len(nu))
    keep = np.asarray(positives[nu, ni]).ravel() == 0  # a sampled "negative" the user did consume is dropped
    users = np.concatenate([pu, nu[keep]])
    items = np.concatenate([pi, ni[keep]])
    y = np.concatenate([np.ones(len(pu)), np.zeros(int(keep.sum()))])
    x = np.hstack([p[users], e[items], p[users] * e[items]])
    clf = LogisticRegression(C=1.0, max_iter=300, random_state=seed).fit(x, y)
    return np.concatenate([clf.coef_[0], clf.intercept_]).astype(np.float32)
