"""From a canonical Dataset to a fitted multi-granularity interest model.

``build(dataset, BuildConfig(...))`` runs the stages in order – encode text,
meso (categories), micro (ALS, keywords), macro (user vectors, segments,
profiles), semantic – and returns a :class:`InterestModel` holding every
level's per-user item scores, already normalised, so that fusion for new
weights never recomputes a level.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mgviz.encoder import DEFAULT_MODEL, Encoder
from mgviz.fusion import fuse, normalise_per_user, top_n
from mgviz.levels import macro, meso, micro, semantic, textvec
from mgviz.levels.common import item_text, l2_normalise, user_text, weighted_matrix
from mgviz.limits import check_model_size
from mgviz.schema import LEVELS, Dataset
from mgviz.text import count_matrix

Progress = Callable[[str, int, int], None]

DEFAULT_WEIGHTS = {"macro": 0.15, "meso": 0.15, "micro": 0.55, "semantic": 0.15}


@dataclass
class BuildConfig:
    """Every parameter of a build; recorded in the run manifest.

    Parameters
    ----------
    k : int
        Number of macro segments.
    seed : int
        Seeds K-means, ALS, UMAP and the cold-start forest.
    model : str
        Text encoder name or path.
    factors, regularization, iterations, alpha : ALS parameters.
    half_life_days : float or None
        Recency half-life of interaction weights (None = no decay).
    micro_model : str
        Item-level scores of the micro level: "als", "ease" or "als+ease" (the mean of
        both, each per-user normalised; EASE is skipped above 20,000 items).
    ease_l2 : float
        L2 regularisation of EASE.
    semantic_model : str
        "cosine" (profile-item similarity) or "learned" (σ(W·[e(u), e(i), e(u)⊙e(i)]) fit on
        the training interactions).
    block_weights : dict
        Weights of the user-vector blocks (text, categories, als, demographics).
    item_text_fields : list of str
        Which item text goes to the encoder: any of "title", "categories", "text".
    use_user_text : bool
        Whether users' own words (profile, reviews) feed vectors and keywords.
    text_alpha : dict
        Weights of the document / sentence / word granularities of users' own text.
    n_keywords : int
        Keywords kept per user.
    umap : bool
        Compute the 2-D UMAP map of users.
    k_range : list of int
        K values scored (silhouette, inertia) for the K-quality chart; empty to skip.
    weights : dict
        Default fusion weights stored with the run.
    fusion_strategy : str
        "weighted" (sum) or "product" (weighted geometric mean), see :func:`mgviz.fusion.fuse`.
    """

    k: int = 6
    seed: int = 0
    model: str = DEFAULT_MODEL
    factors: int = 64
    regularization: float = 0.05
    iterations: int = 15
    alpha: float = 10.0
    half_life_days: float | None = 180.0
    micro_model: str = "als+ease"
    semantic_model: str = "cosine"
    ease_l2: float = 500.0
    block_weights: dict = field(default_factory=lambda: dict(macro.DEFAULT_BLOCK_WEIGHTS))
    item_text_fields: list = field(default_factory=lambda: ["title", "categories", "text"])
    use_user_text: bool = True
    text_alpha: dict = field(default_factory=lambda: dict(textvec.DEFAULT_ALPHA))
    n_keywords: int = 10
    umap: bool = True
    k_range: list = field(default_factory=lambda: list(range(2, 13)))
    weights: dict = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    fusion_strategy: str = "weighted"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> BuildConfig:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class InterestModel:
    """Everything a build produced; arrays are indexed like ``dataset.users`` / ``dataset.items``."""

    dataset: Dataset
    config: BuildConfig
    categories: list[str]
    categories_derived: bool
    item_categories: sp.csr_matrix
    category_mix: np.ndarray
    segment_category: np.ndarray
    item_embeddings: np.ndarray
    user_text_embeddings: np.ndarray
    user_vectors: np.ndarray
    segments: np.ndarray
    membership: np.ndarray
    profiles: list[macro.SegmentProfile]
    keywords: pd.DataFrame
    als_user_factors: np.ndarray
    als_item_factors: np.ndarray
    level_scores: dict[str, np.ndarray]
    seen: sp.csr_matrix
    umap_xy: np.ndarray | None = None
    k_scores: pd.DataFrame | None = None
    cold_start_quality: dict | None = None
    timings: dict = field(default_factory=dict)

    # ------------------------------------------------------------- helpers
    @property
    def user_ids(self) -> np.ndarray:
        return self.dataset.user_ids

    @property
    def item_ids(self) -> np.ndarray:
        return self.dataset.item_ids

    @property
    def segment_labels(self) -> list[str]:
        return [p.label for p in self.profiles]

    def user_row(self, user_id) -> int:
        idx = self.dataset.user_index().get_indexer([str(user_id)])[0]
        if idx < 0:
            raise KeyError(f"user '{user_id}' is not in this run")
        return int(idx)

    def top_categories(self, n: int = 3) -> list[list[str]]:
        order = np.argsort(-self.category_mix, axis=1, kind="stable")[:, :n]
        return [[self.categories[j] for j in row] for row in order]

    def recommend(self, weights: dict[str, float] | None = None, n: int = 10, rows=None) -> pd.DataFrame:
        """Top-``n`` lists with each level's contribution (weight × normalised score) per item.

        Columns ``user_id, rank, item_id, score`` then ``macro, meso, micro, semantic``.
        """
        weights = weights or self.config.weights
        return recommend(
            self.level_scores, weights, self.seen, self.user_ids, self.item_ids, n=n, rows=rows,
            strategy=self.config.fusion_strategy,
        )  # fmt: skip


RECOMMEND_BLOCK = 4096  # users fused and ranked together by recommend()


def recommend(level_scores, weights, seen, user_ids, item_ids, n=10, rows=None, strategy="weighted") -> pd.DataFrame:
    """See :meth:`InterestModel.recommend`; works on the arrays alone (for runs loaded from disk).

    Contributions are weight × normalised level score; with the weighted strategy they add up to
    the score, with the product strategy they still show each level's share of the evidence.
    """
    row_idx = np.arange(len(user_ids)) if rows is None else np.asarray(rows)
    if len(row_idx) > RECOMMEND_BLOCK:  # bounded memory for many users: fuse and rank a block at a time
        blocks = [row_idx[i : i + RECOMMEND_BLOCK] for i in range(0, len(row_idx), RECOMMEND_BLOCK)]
        return pd.concat(
            [recommend(level_scores, weights, seen, user_ids, item_ids, n, b, strategy) for b in blocks],
            ignore_index=True,
        )
    total = sum(weights.get(lv, 0.0) for lv in level_scores) or 1.0
    fused = fuse(level_scores, weights, rows=row_idx, strategy=strategy)
    top = top_n(fused, n, exclude=seen, rows=row_idx)
    valid = top.ravel() >= 0  # -1 pads a user who has seen almost everything
    r = np.repeat(row_idx, top.shape[1])[valid]
    c = top.ravel()[valid]
    local = np.repeat(np.arange(top.shape[0]), top.shape[1])[valid]
    frame = {
        "user_id": np.asarray(user_ids)[r],
        "rank": np.tile(np.arange(1, top.shape[1] + 1), top.shape[0])[valid],
        "item_id": np.asarray(item_ids)[c],
        "score": np.round(fused[local, c], 6),
    }
    for level in LEVELS:
        if level in level_scores:
            w = weights.get(level, 0.0) / total
            frame[level] = np.round(level_scores[level][r, c] * w, 6)
    return pd.DataFrame(frame)


class _Timer:
    def __init__(self, progress: Progress | None):
        self.progress = progress
        self.timings: dict[str, float] = {}

    def stage(self, name: str, done: int = 0, total: int = 1):
        if self.progress:
            self.progress(name, done, total)

    def __call__(self, name):
        timer = self

        class _Ctx:
            def __enter__(self_inner):
                timer.stage(name, 0, 1)
                self_inner.t = time.perf_counter()

            def __exit__(self_inner, *exc):
                timer.timings[name] = round(time.perf_counter() - self_inner.t, 3)
                timer.stage(name, 1, 1)

        return _Ctx()


def item_docs(items: pd.DataFrame, fields: list[str]) -> list[str]:
    parts = []
    if "title" in fields:
        parts.append(items["title"].fillna(""))
    if "categories" in fields:
        parts.append(items["categories"].map(lambda c: ", ".join(c)))
    if "text" in fields:
        parts.append(items["text"].fillna(""))
    if not parts:
        raise ValueError("item_text_fields must name at least one of title, categories, text")
    joined = parts[0]
    for p in parts[1:]:
        joined = joined + ". " + p
    return joined.str.strip(". ").tolist()


def build(
    dataset: Dataset,
    config: BuildConfig | None = None,
    encoder: Encoder | None = None,
    progress: Progress | None = None,
) -> InterestModel:
    """Fit every level on ``dataset`` (its interactions are the training data).

    ``progress(stage, done, total)`` reports stages ("encode items", "ALS", ...)
    and, within encoding and ALS, counts done.
    """
    config = config or BuildConfig()
    encoder = encoder or Encoder(config.model)
    timer = _Timer(progress)
    n_users, n_items = len(dataset.users), len(dataset.items)
    if n_users == 0 or n_items == 0:
        raise ValueError("the data has no users or no items to model")
    check_model_size(n_users, n_items, len(dataset.interactions), dataset.sources.get("interactions", ""),
                     ease=config.micro_model != "als")  # fmt: skip

    with timer("weights"):
        weighted = weighted_matrix(dataset, config.half_life_days)
        seen = (dataset.matrix() > 0).astype(np.float32).tocsr()
        popularity = np.asarray(weighted.sum(axis=0)).ravel()

    # ---------------------------------------------------------------- encode
    with timer("encode items"):
        docs = item_docs(dataset.items, config.item_text_fields)
        item_emb = encoder.encode(docs, progress=lambda _s, d, t: timer.stage("encode items", d, t))
    with timer("encode users"):
        own_texts = user_text(dataset) if config.use_user_text else pd.Series([""] * n_users)
        item_counts, vocab = count_matrix(item_docs(dataset.items, ["title", "text"]), min_df=2, max_df=0.3)
        own_counts, _ = count_matrix(own_texts.tolist(), vocabulary=vocab) if len(vocab) else (None, vocab)
        if own_counts is None or own_counts.shape[0] != n_users:
            own_counts = sp.csr_matrix((n_users, len(vocab)), dtype=np.float32)
        term_emb = encoder.encode(list(vocab)) if len(vocab) else None
        if config.use_user_text:
            user_emb, _ = textvec.own_text_vectors(
                dataset, encoder, own_counts, term_emb, config.text_alpha,
                progress=lambda _s, d, t: timer.stage("encode users", d, t), dim=item_emb.shape[1],
            )  # fmt: skip
        else:
            user_emb = np.zeros_like(item_emb[:0], shape=(n_users, item_emb.shape[1]))

    # ---------------------------------------------------------------- meso
    with timer("categories"):
        has_cats = dataset.items["categories"].map(len).gt(0).mean() >= 0.5
        items = dataset.items
        if not has_cats:
            derived, _ = meso.derive_categories(
                item_emb, item_text(dataset).tolist(), seed=config.seed, item_users=weighted.T.tocsr(),
                item_ids=dataset.item_ids,
            )  # fmt: skip
            items = items.assign(categories=derived)
        cat_dataset = (
            dataset if has_cats else Dataset(dataset.interactions, items, dataset.users, dataset.demographic_cols)
        )
        item_cats, categories = meso.item_category_matrix(cat_dataset)
        mix = meso.category_mix(weighted, item_cats)
        has_history = np.asarray(weighted.sum(axis=1)).ravel() > 0
    with timer("cold start"):
        feats, _ = meso.user_features(dataset, user_emb if config.use_user_text else None)
        cold = meso.fit_cold_start(feats, mix, has_history, seed=config.seed)
        if cold is not None and (~has_history).any():
            mix[~has_history] = cold.predict(feats[~has_history])

    # ---------------------------------------------------------------- micro
    with timer("ALS"):

        def _als_cb(it, _elapsed, _loss):
            timer.stage("ALS", it + 1, config.iterations)

        uf, vf = micro.fit_als(
            weighted, config.factors, config.regularization, config.iterations, config.alpha, config.seed, _als_cb
        )
    with timer("keywords"):
        term_counts = micro.user_term_counts(weighted, item_counts, own_counts)
        consumed = semantic.consumption_embedding(weighted, item_emb)
        profile = semantic.profile_embedding(user_emb, consumed)
        per_user, _ = micro.keywords(term_counts, vocab, profile, term_emb, n=config.n_keywords)
        kw = micro.keywords_frame(dataset.user_ids, per_user)

    # ---------------------------------------------------------------- macro
    with timer("segments"):
        blocks = macro.interest_blocks(
            profile, mix, uf if weighted.nnz else None, macro.demographic_block(dataset.users, dataset.demographic_cols)
        )
        vectors = macro.user_vectors(blocks, config.block_weights)
        k = min(config.k, n_users)
        segments, centroids, _ = macro.fit_segments(vectors, k, config.seed)
        membership = macro.soft_membership(vectors, centroids)
        profiles = macro.profile_segments(
            segments,
            k,
            mix,
            categories,
            term_counts,
            vocab,
            weighted,
            dataset.items,
            dataset.users,
            dataset.demographic_cols,
        )
        seg_cat = meso.segment_category_matrix(mix, segments, k)
    k_scores = None
    if config.k_range:
        with timer("K quality"):
            k_scores = macro.score_k_range(vectors, config.k_range, config.seed)
    umap_xy = None
    if config.umap and n_users >= 5:
        with timer("UMAP"):
            umap_xy = user_map(vectors, config.seed)

    # ---------------------------------------------------------------- level scores
    with timer("level scores"):
        seg_items = macro.segment_item_distribution(weighted, membership)
        # one dense users × items array at a time, normalised in place: peak memory stays
        # near the four arrays the model keeps, not twice that
        scorers = {
            "macro": lambda: macro.macro_scores(membership, seg_items),
            "meso": lambda: meso.meso_scores(mix, popularity, item_cats),
            "micro": lambda: micro.micro_scores(uf, vf, weighted, config.micro_model, config.ease_l2),
            "semantic": lambda: (
                semantic.learned_scores(profile, item_emb, seen, seed=config.seed)
                if config.semantic_model == "learned"
                else semantic.semantic_scores(profile, item_emb)
            ),
        }
        level_scores = {name: normalise_per_user(score(), out="inplace") for name, score in scorers.items()}

    return InterestModel(
        dataset=dataset,
        config=config,
        categories=categories,
        categories_derived=not has_cats,
        item_categories=item_cats,
        category_mix=mix,
        segment_category=seg_cat,
        item_embeddings=item_emb,
        user_text_embeddings=user_emb,
        user_vectors=vectors,
        segments=segments,
        membership=membership,
        profiles=profiles,
        keywords=kw,
        als_user_factors=uf,
        als_item_factors=vf,
        level_scores=level_scores,
        seen=seen,
        umap_xy=umap_xy,
        k_scores=k_scores,
        cold_start_quality=cold.quality_ if cold else None,
        timings=timer.timings,
    )


_UMAP_READY = False


def _umap_module():
    """``umap``, with numba's on-disk cache switched on for its compiled functions.

    umap-learn compiles its numba functions on first use in every process (about 20 s
    here) because most are not declared ``cache=True``; turning the cache on makes every
    later process load the machine code instead (a few seconds).
    """
    global _UMAP_READY
    import umap

    if not _UMAP_READY:
        import importlib

        from numba.core.registry import CPUDispatcher

        for name in ("umap.umap_", "umap.layouts", "umap.utils", "umap.spectral", "umap.distances", "umap.sparse"):
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            for obj in vars(module).values():
                if isinstance(obj, CPUDispatcher):
                    try:
                        obj.enable_caching()
                    except Exception:  # noqa: BLE001 - a function numba cannot cache just compiles as before
                        pass
        _UMAP_READY = True
    return umap


def user_map(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """2-D UMAP of user vectors (deterministic for a seed)."""
    import warnings

    umap = _umap_module()
    n = len(vectors)
    reducer = umap.UMAP(
        n_components=2, n_neighbors=min(15, n - 1), min_dist=0.1, metric="euclidean", random_state=seed, n_jobs=1
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="n_jobs value")  # a seed forces one thread; that is the point
        return reducer.fit_transform(l2_normalise(vectors)).astype(np.float32)
