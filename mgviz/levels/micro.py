"""Micro level: preference for specific items (implicit ALS) and interest keywords.

ALS factorises the confidence-weighted user × item matrix, R ≈ U·Vᵀ. Keywords
come from TF-IDF over each user's own words and the text of what they
consumed, re-ranked by how close each word's embedding is to the user's
interest vector.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer
from threadpoolctl import threadpool_limits

from mgviz.config import MICRO_MODELS
from mgviz.levels.base import FactorLevel, Level
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

    Confidence is ``alpha * weight`` as implicit defines it (Hu, Koren & Volinsky's C = 1 + α·r,
    with the 1 folded into implicit's equations). ``callback(iteration,
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
        num_threads=0,  # all cores: each user / item solve is independent, so factors are identical for any count
    )
    try:
        model.fit(weighted.tocsr().astype(np.float32), show_progress=False, callback=callback)
    finally:
        limits.restore_original_limits()
    return np.asarray(model.user_factors, np.float32), np.asarray(model.item_factors, np.float32)


class ALSLevel(FactorLevel):
    """Implicit-feedback ALS scores U[u] · V[i]; folds a user in with the closed-form solve
    against the fixed item factors."""

    kind = "als"

    @classmethod
    def fit(cls, weighted, factors=64, regularization=0.05, iterations=15, alpha=10.0, seed=0, callback=None,
            name="als"):  # fmt: skip
        uf, vf = fit_als(weighted, factors, regularization, iterations, alpha, seed, callback)
        return cls(name, weighted.shape[1], {"alpha": alpha, "regularization": regularization, "factors": factors},
                   user_side=uf, item_side=vf)  # fmt: skip

    def fold_in(self, evidence) -> dict:
        row = np.asarray(evidence.weighted.todense(), dtype=np.float64).ravel()
        p = self.params
        x = als_fold_in(row, self.item_side, p["alpha"], p["regularization"], p.get("confidence", "alpha"),
                        p.get("regularization_scale", "constant"))  # fmt: skip
        evidence.derived["als"] = x
        return {"user_side": x}


#: How an ALS level's factors were fitted, so fold-in solves the same user equation: implicit's (the local
#: engine: C = α·w, a constant λ) or Spark's (C = 1 + α·w, λ times the user's number of interactions).
ALS_CONFIDENCE = ("alpha", "one_plus_alpha")
ALS_REGULARIZATION_SCALE = ("constant", "per_interaction")


def als_fold_in(
    weighted_row: np.ndarray,
    item_factors: np.ndarray,
    alpha: float,
    reg: float,
    confidence: str = "alpha",
    regularization_scale: str = "constant",
) -> np.ndarray:
    """x_u = (YᵀY + Yᵀ(C_u − I)Y + λ_u I)⁻¹ YᵀC_u p_u against fixed item factors Y, solved exactly.

    ``confidence="alpha"``, ``regularization_scale="constant"``: C_u = α·w and λ_u = λ – implicit's own
    user equation (``implicit.cpu.als.user_linear_equation``, solved exactly instead of by its 3 CG
    steps). ``"one_plus_alpha"``, ``"per_interaction"``: C_u = 1 + α·w and λ_u = λ·n_u – Spark ML's
    implicit ALS (Hu, Koren & Volinsky's confidence; ALS-WR's weighted λ), whose last half-iteration
    solves exactly this for every user, so folding a user's own history in gives back their factors.
    """
    if confidence not in ALS_CONFIDENCE or regularization_scale not in ALS_REGULARIZATION_SCALE:
        raise ValueError(f"ALS fold-in: confidence={confidence!r} / regularization_scale={regularization_scale!r} "
                         f"should be one of {ALS_CONFIDENCE} / {ALS_REGULARIZATION_SCALE}")  # fmt: skip
    y = item_factors.astype(np.float64)
    nz = np.flatnonzero(weighted_row)
    if len(nz) == 0:
        return np.zeros(y.shape[1], np.float32)
    conf = alpha * weighted_row[nz] + (1.0 if confidence == "one_plus_alpha" else 0.0)
    lam = reg * len(nz) if regularization_scale == "per_interaction" else reg
    a = y.T @ y + (y[nz].T * (conf - 1.0)) @ y[nz] + lam * np.eye(y.shape[1])
    b = (y[nz].T * conf).sum(axis=1)
    return np.linalg.solve(a, b).astype(np.float32)


def matrix_key(matrix: sp.spmatrix) -> str:
    """A content hash of a sparse matrix (shape, structure and values)."""
    m = sp.csr_matrix(matrix)
    h = hashlib.sha1(repr((m.shape, str(m.dtype))).encode())
    for part in (m.indptr, m.indices, m.data):
        h.update(np.ascontiguousarray(part).tobytes())
    return h.hexdigest()


class FitCache:
    """Fits kept for reuse: the same ALS or EASE on the very same matrix with the very same settings
    is computed once – e.g. level tuning fits the chosen setting on the validation part, and the build
    that chooses the weights on that part reuses it. Keyed by the matrix's content hash and every
    setting, so a reused fit is identical to a new one; ``hits`` counts the reuses."""

    def __init__(self):
        self._fits: dict[tuple, object] = {}
        self.hits = 0

    @staticmethod
    def als_key(weighted, factors, regularization, iterations, alpha, seed) -> tuple:
        return ("als", matrix_key(weighted), int(factors), float(regularization), int(iterations), float(alpha),
                int(seed))  # fmt: skip

    @staticmethod
    def ease_key(seen, l2) -> tuple:
        return ("ease", matrix_key((sp.csr_matrix(seen) > 0).astype(np.float32)), float(l2))

    def put(self, key: tuple, value) -> None:
        self._fits[key] = value

    def get(self, key: tuple):
        value = self._fits.get(key)
        if value is not None:
            self.hits += 1
        return value

    def __len__(self) -> int:
        return len(self._fits)


#: EASE inverts an items × items matrix (float64 Gram and inverse, float32 weights: 335 MB at 4,096 items). Above this
#: many items the micro level switches to sparse item-kNN (``neighbours`` per item), which scales
#: with the log. Raise it (``ease_max_items``) on a machine with memory to spare.
EASE_MAX_ITEMS = 4096
KNN_NEIGHBOURS = 100


def ease_item_weights(matrix: sp.spmatrix, l2: float = 500.0) -> np.ndarray:
    """EASE^R item-item weights (Steck 2019) of the binarised ``matrix``:
    B = I − P·diag(1/diag(P)) with P = (XᵀX + λI)⁻¹, so that B_jj = 0. float32."""
    return ease_from_gram(item_gram(matrix), l2, overwrite=True)


def item_gram(matrix: sp.spmatrix) -> np.ndarray:
    """XᵀX of the binarised ``matrix`` (items × items, float64): what EASE inverts for every λ."""
    x = (sp.csr_matrix(matrix) > 0).astype(np.float64)
    return np.asarray((x.T @ x).todense())


def ease_from_gram(gram: np.ndarray, l2: float, overwrite: bool = False) -> np.ndarray:
    """EASE weights from a precomputed :func:`item_gram` (``overwrite``: reuse its memory)."""
    if l2 <= 0:
        raise ValueError(f"ease: l2 must be > 0, got {l2}")
    from scipy.linalg import lapack

    g = np.array(gram, dtype=np.float64, order="F", copy=not overwrite)
    g[np.diag_indices_from(g)] += l2
    # XᵀX + λI is symmetric positive definite: a Cholesky inverse (potrf + potri) takes half the work of inv()
    c, info = lapack.dpotrf(g, lower=False, overwrite_a=True, clean=False)
    if info == 0:
        p, info = lapack.dpotri(c, lower=False, overwrite_c=True)
    if info != 0:  # not positive definite after all (cannot happen for λ > 0 in exact arithmetic)
        p = np.linalg.inv(np.asarray(gram, dtype=np.float64) + l2 * np.eye(len(gram)))
    else:
        for lo in range(0, len(p), 512):  # potri fills the upper triangle only: mirror it, a band at a time
            hi = min(lo + 512, len(p))
            p[hi:, lo:hi] = p[lo:hi, hi:].T
            band = p[lo:hi, lo:hi]
            band[np.tril_indices_from(band, -1)] = band.T[np.tril_indices_from(band, -1)]
    del g, c
    p /= -np.diag(p).copy()[None, :]
    p[np.diag_indices_from(p)] = 0.0
    return np.ascontiguousarray(p, dtype=np.float32)


def knn_item_weights(matrix: sp.spmatrix, neighbours: int = KNN_NEIGHBOURS) -> sp.csr_matrix:
    """Sparse item-item cosine similarities, each item keeping its ``neighbours`` nearest items
    (implicit's all-pairs kNN: memory grows with items × neighbours, not items²)."""
    from implicit.nearest_neighbours import CosineRecommender

    x = (sp.csr_matrix(matrix) > 0).astype(np.float32)
    model = CosineRecommender(K=neighbours + 1, num_threads=1)
    with warnings.catch_warnings():  # implicit converts its own intermediate matrix and says so
        warnings.simplefilter("ignore")
        model.fit(x, show_progress=False)
    sim = sp.csr_matrix(model.similarity, dtype=np.float32)
    sim.setdiag(0.0)
    sim.eliminate_zeros()
    return sim


class ItemItemLevel(Level):
    """Scores X[u] · B: a user's binarised history through item-item weights ``B`` – EASE's dense
    weights, or sparse item-kNN similarities. Folding a user in is taking their new history row."""

    kind = "item_item"
    user_arrays = ("history",)
    item_arrays = ("weights",)

    @classmethod
    def fit(cls, seen, model="ease", l2=500.0, neighbours=KNN_NEIGHBOURS, name="item_item"):
        history = (sp.csr_matrix(seen) > 0).astype(np.float32).tocsr()
        if model == "ease":
            weights, params = ease_item_weights(history, l2), {"model": "ease", "l2": l2}
        elif model == "knn":
            weights, params = knn_item_weights(history, neighbours), {"model": "knn", "neighbours": neighbours}
        else:
            raise ValueError(f"item-item model {model!r} should be ease or knn")
        return cls(name, history.shape[1], params, history=history, weights=weights)

    def _raw(self, users: dict, items=None) -> np.ndarray:
        w = self.weights if items is None else self.weights[:, np.asarray(items, dtype=np.int64)]
        out = users["history"] @ w
        return np.asarray(out.toarray() if sp.issparse(out) else out, dtype=np.float32)

    def fold_in(self, evidence) -> dict:
        return {"history": (sp.csr_matrix(evidence.seen) > 0).astype(np.float32)}


class BlendLevel(Level):
    """The mean of several levels' normalised scores, normalised again (micro = ALS and EASE/kNN)."""

    kind = "blend"

    def __init__(self, name: str, n_items: int, params: dict | None = None, parts: list[Level] | None = None):
        super().__init__(name, n_items, params)
        self.parts = list(parts or [])

    @property
    def n_users(self) -> int:
        return self.parts[0].n_users

    def part(self, kind: str) -> Level | None:
        return next((p for p in self.parts if p.kind == kind), None)

    def raw(self, rows, items=None) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        if len(self.parts) == 1:
            return self.parts[0].raw(rows, items)
        out = self.parts[0].score(rows, items)
        for p in self.parts[1:]:
            out += p.score(rows, items)
        out *= np.float32(1.0 / len(self.parts))
        return out

    def score_state(self, state: dict, items=None) -> np.ndarray:
        out = sum(p.score_state(state[p.name]) for p in self.parts) / len(self.parts)
        from mgviz.levels.base import normalise_rows

        out = normalise_rows(np.asarray(out, dtype=np.float32))
        return out if items is None else out[:, np.asarray(items, dtype=np.int64)]

    def fold_in(self, evidence) -> dict:
        return {p.name: p.fold_in(evidence) for p in self.parts}

    def with_user(self, row: int, state: dict) -> Level:
        new = self.copy()
        new.parts = [p.with_user(row, state[p.name]) for p in self.parts]
        return new

    def describe(self) -> dict:
        return {"kind": self.kind, **self.params, "parts": [p.describe() for p in self.parts]}

    def save(self, folder):
        folder = super().save(folder)
        for j, p in enumerate(self.parts):
            p.save(folder / f"part{j}")
        return folder

    def _load_extra(self, folder) -> None:
        n = 0
        while (folder / f"part{n}" / "state.json").is_file():
            n += 1
        if n == 0:
            raise ValueError(f"{folder}: the blend has no part0/ folder")
        self.parts = [Level.load(folder / f"part{j}") for j in range(n)]


def micro_item_model(model: str, n_items: int, ease_max_items: int = EASE_MAX_ITEMS) -> str:
    """The micro model a build actually uses: EASE becomes item-kNN above ``ease_max_items`` items."""
    if model not in MICRO_MODELS:
        raise ValueError(f"micro_model={model!r} should be one of {', '.join(MICRO_MODELS)}")
    if "ease" in model and n_items > ease_max_items:
        return model.replace("ease", "knn")
    return model


def fit_micro(weighted, seen, config, callback=None, cache: FitCache | None = None, fit_als_level=None) -> BlendLevel:
    """The micro level for ``config`` (``micro_model``, ALS and EASE settings): ALS, an item-item
    model, or the mean of both after per-user scaling. A fit found in ``cache`` is reused.

    ``fit_als_level(weighted, config)``: fits the ALS part elsewhere (the Spark engine) and returns an
    :class:`ALSLevel`; the cache is then not used for it."""
    effective = micro_item_model(config.micro_model, weighted.shape[1], config.ease_max_items)
    n_items = weighted.shape[1]
    parts: list[Level] = []
    if "als" in effective or weighted.nnz == 0:
        setting = (config.factors, config.regularization, config.iterations, config.alpha, config.seed)
        factors = cache.get(FitCache.als_key(weighted, *setting)) if cache is not None and weighted.nnz else None
        if fit_als_level is not None and weighted.nnz:
            parts.append(fit_als_level(weighted, config))
        elif factors is not None:
            parts.append(ALSLevel("als", n_items, {"alpha": config.alpha, "regularization": config.regularization,
                                                   "factors": config.factors},
                                  user_side=factors[0], item_side=factors[1]))  # fmt: skip
        else:
            parts.append(ALSLevel.fit(weighted, *setting, callback))
    if weighted.nnz and ("ease" in effective or "knn" in effective):
        b = cache.get(FitCache.ease_key(seen, config.ease_l2)) if cache is not None and "ease" in effective else None
        if b is not None:
            history = (sp.csr_matrix(seen) > 0).astype(np.float32).tocsr()
            parts.append(ItemItemLevel("item_item", n_items, {"model": "ease", "l2": config.ease_l2},
                                       history=history, weights=b))  # fmt: skip
        else:
            parts.append(ItemItemLevel.fit(seen, "ease" if "ease" in effective else "knn", config.ease_l2))
    params = {"micro_model": config.micro_model, "effective": effective if weighted.nnz else "als"}
    return BlendLevel("micro", weighted.shape[1], params, parts)


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
    idf: TfidfTransformer | None = None,
) -> tuple[list[list[tuple[str, float]]], np.ndarray]:
    """Top ``n`` keywords per user: TF-IDF over users, re-ranked by embedding relevance.

    Returns (one list of (word, weight) per user, the users × terms TF-IDF matrix).
    Weight is ``(1 - r) * tfidf / max_tfidf + r * cosine(word, user)`` with r =
    ``relevance_weight`` (r = 0 when embeddings are not given). ``idf``: a TF-IDF transformer
    already fitted on a population (:func:`keyword_idf`), for users who were not part of it;
    default: fitted on ``term_counts`` itself. ``term_embeddings`` is only indexed by term
    (``term_embeddings[terms]``), so it may compute the rows it is asked for.
    """
    if term_counts.shape[1] == 0:  # a log with no text at all: no keywords to give
        return [[] for _ in range(term_counts.shape[0])], sp.csr_matrix(term_counts.shape, dtype=np.float32)
    weigh = idf.transform if idf is not None else keyword_idf(term_counts).transform
    tfidf = weigh(term_counts).tocsr().astype(np.float32)
    use_emb = user_vectors is not None and term_embeddings is not None and len(vocabulary) > 0
    if use_emb:
        user_vectors = l2_normalise(user_vectors)
    out: list[list[tuple[str, float]]] = []
    indptr, indices, data = tfidf.indptr, tfidf.indices, tfidf.data
    vocabulary = np.asarray(vocabulary).astype(str)
    for u in range(tfidf.shape[0]):
        lo, hi = indptr[u], indptr[u + 1]
        if lo == hi:
            out.append([])
            continue
        row_data, row_terms = data[lo:hi], indices[lo:hi]
        order = np.argsort(-row_data, kind="stable")[:candidates]
        terms, vals = row_terms[order], row_data[order] / row_data[order].max()
        if use_emb and np.any(user_vectors[u]):
            rel = np.clip(term_embeddings[terms] @ user_vectors[u], 0, None)
            rel = rel / rel.max() if rel.max() > 0 else rel
            vals = (1 - relevance_weight) * vals + relevance_weight * rel
        best = np.argsort(-vals, kind="stable")[:n]
        out.append([(vocabulary[terms[b]], round(float(vals[b]), 4)) for b in best])
    return out, tfidf


def keyword_idf(term_counts: sp.csr_matrix) -> TfidfTransformer:
    """The TF-IDF weighting :func:`keywords` uses, fitted on a users × terms matrix."""
    return TfidfTransformer(sublinear_tf=True).fit(term_counts)


def keywords_frame(user_ids: np.ndarray, per_user: list[list[tuple[str, float]]]) -> pd.DataFrame:
    """Long table ``user_id, rank, keyword, weight`` (rank 1 = most relevant)."""
    rows = [
        (uid, rank + 1, word, weight)
        for uid, words in zip(user_ids, per_user, strict=True)
        for rank, (word, weight) in enumerate(words)
    ]
    return pd.DataFrame(rows, columns=["user_id", "rank", "keyword", "weight"])
