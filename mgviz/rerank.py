"""Diversity by re-ranking: maximal marginal relevance (MMR) over each user's best fused items.

Each user's top :data:`CANDIDATES` fused items (seen items excluded) are the candidates; their
fused scores are rescaled to [0, 1] over the candidates (the relevance). The list is then built
greedily: the next item is the candidate with the largest

    (1 − λ) · relevance − λ · max cosine similarity to the items already chosen,

ties going to the more relevant candidate. λ = 0 is the fused list itself; a larger λ trades
relevance for variety. Similarity is cosine between item category vectors (``"categories"``,
the meso level's items × categories matrix) or between item text embeddings (``"embeddings"``).

Everything is vectorised over a block of users: a block's candidates, their item vectors (users ×
candidates × dimensions) and their pairwise cosines (users × candidates²), at most
:data:`RERANK_CELLS` numbers each, are all that is held.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

#: The two item representations similarity can be measured on.
SIMILARITIES = ("categories", "embeddings")
#: Candidates per user that the re-ranking picks from (at least the list length).
CANDIDATES = 100
#: Numbers a block holds at once in its item vectors (users × candidates × dimensions) and in its
#: candidates' cosines (users × candidates²): 4M float32 = 16 MB each.
RERANK_CELLS = 4_000_000


def check_diversity(diversity) -> float:
    """λ as a float; ``ValueError`` when it is not a number in [0, 1]."""
    try:
        value = float(diversity)
    except (TypeError, ValueError):
        raise ValueError(f"diversity {diversity!r} should be a number between 0 and 1") from None
    if not np.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"diversity {diversity!r} should be between 0 (pure relevance) and 1")
    return value


def check_similarity(similarity: str) -> str:
    """``ValueError`` naming the choices when ``similarity`` is not one of :data:`SIMILARITIES`."""
    if similarity not in SIMILARITIES:
        raise ValueError(f"similarity {similarity!r} should be one of {', '.join(SIMILARITIES)}")
    return similarity


def item_vectors(model, similarity: str = "categories"):
    """The item representation of ``model`` (an :class:`~mgviz.pipeline.InterestModel`) that similarity
    is measured on: its items × categories matrix (sparse) or its item embeddings (dense)."""
    check_similarity(similarity)
    return model.item_categories if similarity == "categories" else model.item_embeddings


def _row_norms(vectors) -> np.ndarray:
    if sp.issparse(vectors):
        m = sp.csr_matrix(vectors)
        return np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel()).astype(np.float32)
    return np.linalg.norm(np.asarray(vectors, dtype=np.float32), axis=1)


def _gather(vectors, items: np.ndarray, norms: np.ndarray) -> np.ndarray:
    """Unit vectors of ``items`` (any shape of item indices ≥ 0) as a dense ``items.shape + (d,)`` array;
    an item with a zero vector stays zero (similar to nothing)."""
    flat = items.ravel()
    rows = vectors[flat].toarray() if sp.issparse(vectors) else np.asarray(vectors[flat])
    rows = rows.astype(np.float32, copy=True)
    n = norms[flat]
    rows /= np.where(n > 0, n, 1.0)[:, None]
    return rows.reshape(*items.shape, rows.shape[1])


def relevance(scores: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per row, ``scores`` min-max rescaled to [0, 1] over the ``valid`` cells (0 elsewhere and on a
    row whose valid scores are all equal). float64."""
    s = np.asarray(scores, dtype=np.float64)
    lo = np.where(valid, s, np.inf).min(axis=1, keepdims=True)
    hi = np.where(valid, s, -np.inf).max(axis=1, keepdims=True)
    span = hi - lo
    ok = np.isfinite(span) & (span > 0)
    out = np.where(valid & ok, (s - np.where(np.isfinite(lo), lo, 0.0)) / np.where(ok, span, 1.0), 0.0)
    return out


def mmr(
    candidates: np.ndarray, scores: np.ndarray, vectors, diversity: float, k: int, cells: int = RERANK_CELLS
) -> np.ndarray:
    """Greedy MMR lists from each row's candidates.

    Parameters
    ----------
    candidates : ndarray of int, shape (n, C)
        Candidate items per user, best first (``-1`` pads: never chosen).
    scores : ndarray, shape (n, C)
        Their fused scores; rescaled to [0, 1] per row over the valid candidates.
    vectors : ndarray (items × d) or sparse matrix
        Item representation; similarity is the cosine of two items' rows.
    diversity : float
        λ in [0, 1].
    k : int
        List length.
    cells : int
        Numbers a block holds at once (:data:`RERANK_CELLS`); the users are re-ranked in blocks that fit.

    Returns
    -------
    ndarray of int, shape (n, min(k, C))
        Items best first, ``-1`` where a user had fewer than ``k`` candidates.
    """
    lam = check_diversity(diversity)
    candidates = np.asarray(candidates, dtype=np.int64)
    n_users, n_cand = candidates.shape
    k = max(0, min(int(k), n_cand))
    out = np.full((n_users, k), -1, dtype=np.int64)
    if n_users == 0 or k == 0:
        return out
    norms = _row_norms(vectors)
    dim = max(int(vectors.shape[1]), 1)
    size = max(1, cells // (n_cand * max(dim, n_cand)))  # a block's item vectors and its candidates' cosines
    for start in range(0, n_users, size):
        stop = min(start + size, n_users)
        out[start:stop] = _mmr_block(candidates[start:stop], scores[start:stop], vectors, norms, lam, k)
    return out


def _mmr_block(cand: np.ndarray, scores: np.ndarray, vectors, norms: np.ndarray, lam: float, k: int) -> np.ndarray:
    b = cand.shape[0]
    valid = cand >= 0
    rel = relevance(scores, valid)
    unit = _gather(vectors, np.where(valid, cand, 0), norms)  # b × C × d
    # every candidate pair's cosine at once (a batched matrix product, faster than one product per step)
    cosine = np.matmul(unit, unit.transpose(0, 2, 1))  # b × C × C
    ar = np.arange(b)
    available = valid.copy()
    max_sim = np.zeros(cand.shape, dtype=np.float64)  # nothing chosen yet: no penalty
    top = np.full((b, k), -1, dtype=np.int64)
    for step in range(k):
        value = (1.0 - lam) * rel - lam * max_sim
        value[~available] = -np.inf
        pos = np.argmax(value, axis=1)  # the first maximum: ties go to the more relevant candidate
        ok = available[ar, pos]
        top[ok, step] = cand[ar[ok], pos[ok]]
        available[ar, pos] = False
        if step + 1 < k:
            sim = cosine[ar, pos].astype(np.float64)
            max_sim = sim if step == 0 else np.maximum(max_sim, sim)
    return top


def rerank(
    scores: np.ndarray,
    k: int,
    vectors,
    diversity: float,
    exclude: sp.csr_matrix | None = None,
    candidates: int = CANDIDATES,
) -> np.ndarray:
    """Top-``k`` lists of a block of users' fused ``scores`` (users × items), MMR re-ranked.

    ``exclude`` (the block's rows of the seen matrix) never appears. λ = 0 gives exactly
    :func:`mgviz.fusion.top_n`'s lists; otherwise the best ``max(candidates, k)`` items per user
    are re-ranked by :func:`mmr`.
    """
    from mgviz.fusion import top_n

    lam = check_diversity(diversity)
    if lam == 0.0:
        return top_n(scores, k, exclude=exclude)
    cand = top_n(scores, max(int(candidates), int(k)), exclude=exclude)
    cand_scores = np.take_along_axis(np.asarray(scores), np.where(cand >= 0, cand, 0), axis=1)
    return mmr(cand, cand_scores, vectors, lam, k)  # min(k, items) columns, as top_n gives
