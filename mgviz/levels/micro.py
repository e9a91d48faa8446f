"""Micro level: preference for specific items (implicit ALS) and interest keywords.

ALS factorises the confidence-weighted user × item matrix, R ≈ U·Vᵀ. Keywords
come from TF-IDF over each user's own words and the text of what they
consumed, re-ranked by how close each word's embedding is to the user's
interest vector.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer
from threadpoolctl import threadpool_limits

from mgviz.levels.common import l2_normalise, row_normalise


def fit_als(
    weighted: sp.csr_matrix,
    factors: int = 64,
    regularization: float = 0.05,
    iterations: int = 15,
    alpha: float = 10.0,
    seed: int = 0,
    callback: Callable[[int, float, float], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Implicit-feedback ALS on ``weighted`` (users × items). Returns (user_factors, item_factors).

    Confidence is ``1 + alpha * weight`` (Hu, Koren & Volinsky). ``callback(iteration,
    elapsed, loss)`` is called after each iteration, as implicit does.
    """
    from implicit.cpu.als import AlternatingLeastSquares

    n_users, n_items = weighted.shape
    if weighted.nnz == 0:
        return np.zeros((n_users, factors), np.float32), np.zeros((n_items, factors), np.float32)
    # BLAS threads inside ALS fight with its own threads (implicit warns about it at construction).
    limits = threadpool_limits(1, "blas")
    model = AlternatingLeastSquares(
        factors=factors,
        regularization=regularization,
        iterations=iterations,
        alpha=alpha,
        random_state=seed,
        calculate_training_loss=callback is not None,
        num_threads=1,  # per-user solves are independent, but one thread keeps the float sums in one order
    )
    try:
        model.fit(weighted.tocsr().astype(np.float32), show_progress=False, callback=callback)
    finally:
        limits.restore_original_limits()
    return np.asarray(model.user_factors, np.float32), np.asarray(model.item_factors, np.float32)


def als_scores(user_factors: np.ndarray, item_factors: np.ndarray) -> np.ndarray:
    return (user_factors @ item_factors.T).astype(np.float32)


MICRO_MODELS = ("als", "ease", "als+ease")
EASE_MAX_ITEMS = 20_000  # EASE inverts an items × items matrix


def ease_item_weights(matrix: sp.spmatrix, l2: float = 500.0) -> np.ndarray:
    """EASE^R item-item weights (Steck 2019) of the binarised ``matrix``:
    B = I − P·diag(1/diag(P)) with P = (XᵀX + λI)⁻¹, so that B_jj = 0."""
    if l2 <= 0:
        raise ValueError(f"ease: l2 must be > 0, got {l2}")
    x = (sp.csr_matrix(matrix) > 0).astype(np.float64)
    gram = np.asarray((x.T @ x).todense())
    gram[np.diag_indices_from(gram)] += l2
    p = np.linalg.inv(gram)
    b = -p / np.diag(p)[None, :]
    b[np.diag_indices_from(b)] = 0.0
    return b


def ease_scores(weighted: sp.csr_matrix, l2: float = 500.0) -> np.ndarray:
    """EASE scores X·B of every user on the binarised matrix."""
    x = (weighted > 0).astype(np.float32).tocsr()
    return np.asarray(x @ ease_item_weights(x, l2).astype(np.float32), dtype=np.float32)


def micro_scores(
    user_factors: np.ndarray,
    item_factors: np.ndarray,
    weighted: sp.csr_matrix,
    model: str = "als+ease",
    l2: float = 500.0,
) -> np.ndarray:
    """Item-level preference: ALS (R ≈ U·Vᵀ), EASE, or the mean of both after per-user scaling."""
    from mgviz.fusion import normalise_per_user

    if model not in MICRO_MODELS:
        raise ValueError(f"micro_model={model!r} should be one of {', '.join(MICRO_MODELS)}")
    als = als_scores(user_factors, item_factors)
    if model == "als" or weighted.shape[1] > EASE_MAX_ITEMS or weighted.nnz == 0:
        return als
    ease = ease_scores(weighted, l2)
    if model == "ease":
        return ease
    blend = normalise_per_user(als, out="inplace")
    blend += normalise_per_user(ease, out="inplace")
    blend *= np.float32(0.5)
    return blend


def user_term_counts(
    weighted: sp.csr_matrix, item_counts: sp.csr_matrix, own_counts: sp.csr_matrix, own_weight: float = 2.0
) -> sp.csr_matrix:
    """Users × terms: the text of consumed items (weighted by interest in each item, rows
    summing to one item's worth per interaction) plus the user's own words, counted more."""
    consumed = row_normalise(weighted) @ item_counts
    n_inter = np.asarray((weighted > 0).sum(axis=1)).ravel().astype(np.float32)
    consumed = sp.diags(np.sqrt(n_inter)) @ consumed  # more history, more evidence, but sub-linear
    return (consumed + own_weight * own_counts).tocsr()


def keywords(
    term_counts: sp.csr_matrix,
    vocabulary: np.ndarray,
    user_vectors: np.ndarray | None = None,
    term_embeddings: np.ndarray | None = None,
    n: int = 10,
    candidates: int = 30,
    relevance_weight: float = 0.4,
) -> tuple[list[list[tuple[str, float]]], np.ndarray]:
    """Top ``n`` keywords per user: TF-IDF over users, re-ranked by embedding relevance.

    Returns (one list of (word, weight) per user, the users × terms TF-IDF matrix).
    Weight is ``(1 - r) * tfidf / max_tfidf + r * cosine(word, user)`` with r =
    ``relevance_weight`` (r = 0 when embeddings are not given).
    """
    if term_counts.shape[1] == 0:  # a log with no text at all: no keywords to give
        return [[] for _ in range(term_counts.shape[0])], sp.csr_matrix(term_counts.shape, dtype=np.float32)
    tfidf = TfidfTransformer(sublinear_tf=True).fit_transform(term_counts).tocsr().astype(np.float32)
    use_emb = user_vectors is not None and term_embeddings is not None and len(vocabulary) > 0
    if use_emb:
        user_vectors = l2_normalise(user_vectors)
    out: list[list[tuple[str, float]]] = []
    for u in range(tfidf.shape[0]):
        row = tfidf.getrow(u)
        if row.nnz == 0:
            out.append([])
            continue
        order = np.argsort(-row.data, kind="stable")[:candidates]
        terms, vals = row.indices[order], row.data[order] / row.data[order].max()
        if use_emb and np.any(user_vectors[u]):
            rel = np.clip(term_embeddings[terms] @ user_vectors[u], 0, None)
            rel = rel / rel.max() if rel.max() > 0 else rel
            vals = (1 - relevance_weight) * vals + relevance_weight * rel
        best = np.argsort(-vals, kind="stable")[:n]
        out.append([(str(vocabulary[terms[b]]), round(float(vals[b]), 4)) for b in best])
    return out, tfidf


def keywords_frame(user_ids: np.ndarray, per_user: list[list[tuple[str, float]]]) -> pd.DataFrame:
    """Long table ``user_id, rank, keyword, weight`` (rank 1 = most relevant)."""
    rows = [
        (uid, rank + 1, word, weight)
        for uid, words in zip(user_ids, per_user, strict=True)
        for rank, (word, weight) in enumerate(words)
    ]
    return pd.DataFrame(rows, columns=["user_id", "rank", "keyword", "weight"])
