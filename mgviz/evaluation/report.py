"""Held-out evaluation of every level, the fusion and classical baselines, in one run.

Protocol (no leakage): the log is split into train / test; every level,
segment, category mix, popularity and keyword is fit on train only. ``auto``
weights are chosen on a validation split carved from *train* (levels refit on
train-minus-validation), never on test. The test part is only ever used to
score lists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mgviz.encoder import Encoder
from mgviz.evaluation.baselines import baseline_levels
from mgviz.evaluation.level_tuning import tune_levels, tuning_sample
from mgviz.evaluation.metrics import (
    beyond_accuracy,
    by_group,
    coverage,
    interest_coverage,
    intra_list_diversity,
    novelty,
    per_user_metrics,
    ranking_metrics,
)
from mgviz.evaluation.splits import describe_split, split
from mgviz.evaluation.tuning import choose_weights_grid, learn_weights_stacking, weight_surface
from mgviz.fusion import fuse, top_n
from mgviz.levels.base import Level
from mgviz.levels.micro import FitCache
from mgviz.pipeline import BuildConfig, InterestModel, build
from mgviz.rerank import check_diversity, item_vectors, rerank
from mgviz.schema import LEVELS, Dataset


def _binary(m: sp.csr_matrix) -> sp.csr_matrix:
    out = (m > 0).astype(np.float32).tocsr()
    out.eliminate_zeros()
    return out


def _fast_config(config: BuildConfig) -> BuildConfig:
    """Evaluation builds need neither the 2-D map, the K-quality chart nor segment stability."""
    return replace(config, umap=False, k_range=[], stability=False)


#: Scores held per level for the evaluated users (rows × items): 25M float32 = 100 MB. A log with
#: more evaluated users × items than this is evaluated on a seeded sample of users (shown in the app).
EVAL_CELLS = 25_000_000


def evaluated_rows(target: sp.csr_matrix, seed: int = 0, cells: int = EVAL_CELLS) -> tuple[np.ndarray, int]:
    """Users with a target item, a seeded sample of them when there are more than ``cells`` allow;
    and how many users had a target item."""
    rows = np.flatnonzero(np.diff(sp.csr_matrix(target).indptr) > 0)
    cap = max(1, cells // max(target.shape[1], 1))
    if len(rows) > cap:
        rows = np.sort(np.random.default_rng(seed).choice(rows, cap, replace=False))
        return rows, int(np.count_nonzero(np.diff(sp.csr_matrix(target).indptr) > 0))
    return rows, len(rows)


#: Users with a validation item that tuning needs; below it the default weights are used, and said so.
MIN_TUNING_USERS = 10


def tune_on_validation(
    train: Dataset, config: BuildConfig, encoder: Encoder, k: int = 10, step: float = 0.1, progress=None, fixed=()
) -> dict:
    """Choose fusion weights on a validation split carved from ``train`` only.

    Returns ``{"weights", "stacking_weights", "surface", "validation"}``, plus ``"fallback"`` (the
    reason, in words) when the log is too small to tune and the default weights are returned.
    """
    method = "temporal" if train.has_time else "random"
    fit_df, val_df = split(train.interactions, method, 0.2, seed=config.seed)
    validation = describe_split(fit_df, val_df, method=method, test_frac=0.2, seed=config.seed)
    fit_users = set(fit_df["user_id"])
    n_ok = int(val_df.loc[val_df["user_id"].isin(fit_users), "user_id"].nunique())
    if n_ok < MIN_TUNING_USERS:
        return _untuned(config, validation, f"mgviz needs at least {MIN_TUNING_USERS} users with 2 or more "
                        f"interactions to tune weights (this log has {n_ok}) – using the default weights")  # fmt: skip
    # a big log is tuned (levels and weights) on the whole histories of a seeded sample of its users
    fit_ds = tuning_sample(train.with_interactions(fit_df), config.seed)
    val_df = val_df[val_df["user_id"].isin(pd.Index(fit_ds.users["user_id"]))]
    levels_info = None
    fits = FitCache()  # the fits level tuning chose are not fitted again by the build below
    sample_config = config
    if config.tune_levels:
        levels_info = tune_levels(fit_ds, val_df, config, progress=progress, fixed=fixed, cache=fits,
                                  population=len(train.users))  # fmt: skip
        config = replace(config, **levels_info["params"])
        sample_config = replace(config, **levels_info.get("sample_params", {}))
    model = build(fit_ds, _fast_config(sample_config), encoder, progress=progress, fit_cache=fits)
    if levels_info:
        levels_info["reused_fits"] = fits.hits
    exclude, target = _binary(fit_ds.matrix()), _binary(fit_ds.matrix(val_df))
    rows, n_with_target = evaluated_rows(target, config.seed)
    sample = model.scores(rows)
    weights, surface = choose_weights_grid(
        sample, exclude[rows], target[rows], k=k, step=step, strategy=config.fusion_strategy
    )
    try:
        stacking = learn_weights_stacking(sample, exclude[rows], target[rows], seed=config.seed,
                                          strategy=config.fusion_strategy)  # fmt: skip
    except ValueError:  # every sampled pair in one class: nothing to learn, the grid's choice stands
        stacking = dict(weights)
    validation.update(evaluated_users=int(len(rows)), users_with_target=n_with_target)
    if len(fit_ds.users) < len(train.users):
        validation.update(tuned_on_users=len(fit_ds.users), of_users=len(train.users))
    out = {"weights": weights, "stacking_weights": stacking, "surface": surface, "validation": validation,
           "params": levels_info["params"] if levels_info else {}}  # fmt: skip
    if levels_info:
        out["levels"] = levels_info
    return out


def _untuned(config: BuildConfig, validation: dict, reason: str) -> dict:
    weights = {lv: float(config.weights.get(lv, 0.0)) for lv in LEVELS}
    surface = pd.DataFrame(columns=[*LEVELS, "ndcg"], dtype=float)
    return {"weights": weights, "stacking_weights": dict(weights), "surface": surface, "validation": validation,
            "params": {}, "fallback": reason}  # fmt: skip


def auto_weights(dataset: Dataset, config: BuildConfig, encoder: Encoder | None = None, progress=None, fixed=()):
    """Weights for a final build on all of ``dataset``: tuned on a validation split of it – and,
    with ``config.tune_levels``, the levels' settings first (``info["params"]``; names in
    ``fixed`` keep the value in ``config``).

    Returns (weights, info) with ``info["summary"]`` a one-line description (the reason when the
    log was too small to tune and the default weights are used: ``info["fallback"]``).
    """
    encoder = encoder or Encoder(config.model)
    tuned = tune_on_validation(dataset, config, encoder, progress=progress, fixed=fixed)
    if "fallback" in tuned:
        return tuned["weights"], {**tuned, "summary": tuned["fallback"]}
    best = tuned["surface"]["ndcg"].max()
    summary = ", ".join(f"{lv}={w:.1f}" for lv, w in tuned["weights"].items()) + f" (validation NDCG@10 {best:.4f})"
    if tuned.get("levels"):
        lv = tuned["levels"]
        summary += f"; levels tuned in {lv['seconds']:.0f} s ({lv['fits']} fits): " + describe_params(tuned["params"])
        if lv.get("sample"):
            summary += f" – {lv['sample']}"
    return tuned["weights"], {**tuned, "summary": summary}


def tuning_record(info: dict) -> dict:
    """What a run's manifest keeps of ``auto``: the weights and settings chosen, the validation
    split, each level's validation curve and what tuning cost (JSON-able)."""
    out = {"summary": info.get("summary", ""), "weights": info.get("weights", {}), "params": info.get("params", {}),
           "validation": info.get("validation", {})}  # fmt: skip
    if "fallback" in info:
        out["fallback"] = info["fallback"]
    surface = info.get("surface")
    if surface is not None and len(surface):
        out["validation_ndcg"] = round(float(surface["ndcg"].max()), 6)
    if info.get("levels"):
        out["levels"] = info["levels"]
    return out


def describe_params(params: dict) -> str:
    """The tuned settings in a line: ``ease_l2=2000, factors=64, …``."""
    from mgviz.config import format_setting

    return ", ".join(f"{k}={format_setting(k, v) or 'none'}" for k, v in params.items())


#: Users the app's held-out panel evaluates at most (a seeded sample of a bigger log).
APP_EVAL_USERS = 20_000


def sample_users(dataset: Dataset, n: int, seed: int = 0) -> Dataset:
    """The log of a seeded sample of ``n`` users (whole histories), every item kept."""
    pick = np.sort(np.random.default_rng(seed).choice(len(dataset.users), n, replace=False))
    users = dataset.users.iloc[pick].reset_index(drop=True)
    keep = dataset.interactions["user_id"].isin(pd.Index(users["user_id"]))
    friends = dataset.friends
    if friends is not None:  # the edges among the sampled users
        kept = pd.Index(users["user_id"])
        friends = friends[friends["user_id"].isin(kept) & friends["friend_id"].isin(kept)].reset_index(drop=True)
    return Dataset(dataset.interactions.loc[keep].reset_index(drop=True), dataset.items, users,
                   list(dataset.demographic_cols), dataset.has_rating, dataset.has_time, dict(dataset.sources),
                   friends, dataset.friends_directed)  # fmt: skip


@dataclass
class EvalContext:
    """Levels fit on a training split, the held-out test matrix, and baselines.

    The evaluated users are those with a test interaction – a seeded sample of them on a big
    log (:data:`EVAL_CELLS`; ``split_info["evaluated_users"]`` of ``["users_with_test"]``).
    Their level scores are computed once, so ``metrics_for`` only fuses, ranks and scores.
    """

    model: InterestModel
    train: sp.csr_matrix
    test: sp.csr_matrix
    split_info: dict
    baselines_fitted: dict[str, Level]
    ks: tuple[int, ...] = (10, 20)
    tuned: dict = field(default_factory=dict)
    rows: np.ndarray | None = None
    _baselines: dict | None = None
    _sample: dict | None = None
    #: Test surfaces already computed (or loaded with a saved evaluation), by (k, step, metric).
    surfaces: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.rows is None:
            self.rows, n_with_test = evaluated_rows(self.test, self.model.config.seed)
            self.split_info = {**self.split_info, "evaluated_users": int(len(self.rows)),
                               "users_with_test": n_with_test}  # fmt: skip
        self.rows = np.asarray(self.rows, dtype=np.int64)

    @classmethod
    def from_dataset(
        cls,
        dataset: Dataset,
        config: BuildConfig | None = None,
        encoder: Encoder | None = None,
        split_method: str = "temporal",
        test_frac: float = 0.2,
        ks=(10, 20),
        tune: bool = True,
        progress=None,
        max_users: int | None = None,
        engine=None,
    ) -> EvalContext:
        """Split, fit the levels on train, tune on a validation part of train, fit the baselines.

        ``max_users``: evaluate on a seeded sample of this many users (their whole histories),
        so a big log's held-out panel costs a build of the sample, not two builds of the log;
        ``split_info["sampled_users"]`` of ``["of_users"]`` says so.

        ``engine``: the :class:`mgviz.engines.Engine` that builds the train model (default local); the
        lists are scored here as for any model, so two engines are measured in the same protocol. Tuning
        builds several models on the local engine, so it needs ``tune=False`` with another engine.
        """
        if engine is not None and tune and getattr(engine, "name", "local") != "local":
            raise ValueError(f"held-out tuning builds on the local engine only: evaluate the {engine.name} engine "
                             "with fixed weights (tune=False)")  # fmt: skip
        config = config or BuildConfig()
        encoder = encoder or Encoder(config.model)
        n_all = len(dataset.users)
        if max_users is not None and n_all > max_users:
            dataset = sample_users(dataset, max_users, config.seed)
        train_df, test_df = split(dataset.interactions, split_method, test_frac, seed=config.seed)
        train_ds = dataset.with_interactions(train_df)
        # levels and weights are chosen on a validation part of train first; the train build then uses them
        tuned = tune_on_validation(train_ds, config, encoder, progress=progress) if tune else {}
        if tuned.get("params"):
            config = replace(config, **tuned["params"])
        model = build(train_ds, _fast_config(config), encoder, progress=progress, engine=engine)
        train, test = _binary(train_ds.matrix()), _binary(dataset.matrix(test_df))
        info = describe_split(train_df, test_df, method=split_method, test_frac=test_frac, seed=config.seed)
        if len(dataset.users) < n_all:
            info.update(sampled_users=len(dataset.users), of_users=n_all)
        tuned_baselines = (tuned.get("levels") or {}).get("baselines", {})
        return cls(model, train, test, info, baseline_levels(train, tuned_baselines), tuple(ks), tuned)

    # ------------------------------------------------------------------ lists
    @property
    def sample_scores(self) -> dict[str, np.ndarray]:
        """Each level's normalised scores of the evaluated users (computed once)."""
        if self._sample is None:
            self._sample = self.model.scores(self.rows)
        return self._sample

    def lists(self, scores: np.ndarray, k: int | None = None) -> np.ndarray:
        """Top-``k`` lists from ``scores`` of the evaluated users (one row each), training items excluded."""
        k = k or max(self.ks)
        return top_n(scores, k, exclude=self.train[self.rows])

    def fused_lists(
        self, weights: dict[str, float], k: int | None = None, diversity: float = 0.0, similarity: str = "categories"
    ) -> np.ndarray:
        """Fused top-``k`` lists of the evaluated users; ``diversity`` (MMR λ) > 0 re-ranks them
        (:func:`mgviz.rerank.rerank`) by ``similarity`` of items."""
        fused = fuse(self.sample_scores, weights, strategy=self.model.config.fusion_strategy)
        if check_diversity(diversity) == 0:
            return self.lists(fused, k)
        vectors = item_vectors(self.model, similarity)
        return rerank(fused, k or max(self.ks), vectors, diversity, exclude=self.train[self.rows])

    def score_lists(self, lists: np.ndarray, beyond: bool = True, quick: bool = False) -> dict:
        """Metrics of lists for the evaluated users (rows of :attr:`rows`).

        ``quick`` keeps what a live panel needs – accuracy at the smallest k, coverage,
        novelty, category diversity and interest coverage – and skips the costlier
        pairwise ones (personalisation, embedding diversity).
        """
        test = self.test[self.rows]
        ks = (min(self.ks),) if quick else self.ks
        acc = ranking_metrics(lists, test, ks=ks)
        out = {f"{m}@{k}": v for k, ms in acc.items() for m, v in ms.items() if m != "n_users"}
        if quick:
            k = min(self.ks)
            top = lists[:, :k]
            out[f"coverage@{k}"] = coverage(top, test.shape[1])
            out[f"novelty@{k}"] = novelty(top, self.train)
            out[f"ild_category@{k}"] = intra_list_diversity(
                top, item_categories=self.model.dataset.items["categories"].tolist()
            )
            out[f"interest_coverage@{k}"] = interest_coverage(top, test, self.model.item_categories)
        elif beyond:
            k = min(self.ks)
            extra = beyond_accuracy(
                lists[:, :k],
                self.train,
                item_categories=self.model.dataset.items["categories"].tolist(),
                embeddings=self.model.item_embeddings,
            )
            extra["interest_coverage"] = interest_coverage(lists[:, :k], test, self.model.item_categories)
            out.update({f"{m}@{k}": v for m, v in extra.items()})
        return out

    def metrics_for(
        self,
        weights: dict[str, float],
        k: int = 10,
        quick: bool = False,
        diversity: float = 0.0,
        similarity: str = "categories",
    ) -> dict:
        """Accuracy and beyond-accuracy metrics of the fused lists for ``weights``, MMR re-ranked
        with λ = ``diversity`` over item ``similarity`` first when it is above 0.

        Keys are ``"ndcg@10"`` etc. plus unsuffixed aliases at ``k`` for the dashboard;
        ``quick`` as in :meth:`score_lists` (for slider moves).
        """
        out = self.score_lists(self.fused_lists(weights, diversity=diversity, similarity=similarity), quick=quick)
        out.update({key.split("@")[0]: val for key, val in out.items() if key.endswith(f"@{k}")})
        return out

    @property
    def baselines(self) -> dict[str, dict]:
        """Metrics of the baselines and of each level alone (computed once)."""
        if self._baselines is None:
            out = {
                name: self.score_lists(self.lists(lv.score(self.rows))) for name, lv in self.baselines_fitted.items()
            }
            for level in self.model.levels:
                out[f"{level} only"] = self.score_lists(self.fused_lists({level: 1.0}))
            self._baselines = out
        return self._baselines

    def surface(self, k: int = 10, step: float = 0.1, metric: str = "ndcg") -> pd.DataFrame:
        """Test metric over the weight simplex (for the dashboard's chart; not used for choosing).

        Computed once per (k, step, metric); a saved evaluation carries the dashboard's one.
        """
        key = (int(k), float(step), str(metric))
        if key not in self.surfaces:
            self.surfaces[key] = weight_surface(
                self.sample_scores, self.train[self.rows], self.test[self.rows], k=k, step=step, metric=metric,
                strategy=self.model.config.fusion_strategy,
            )  # fmt: skip
        return self.surfaces[key].copy()

    def auto_weights(self) -> dict[str, float]:
        """Weights chosen on the validation split carved from train (never on test)."""
        if not self.tuned:
            raise ValueError("this context was made with tune=False")
        return dict(self.tuned["weights"])

    def per_segment(self, weights: dict[str, float], k: int = 10) -> pd.DataFrame:
        """Every metric per macro segment (segments fit on train): accuracy means over the
        segment's users, and beyond-accuracy figures of the segment's lists."""
        lists = self.fused_lists(weights)
        per_user = per_user_metrics(lists, self.test[self.rows], ks=(k,))
        seg_of_row = self.model.segments[self.rows]
        labels = np.asarray(self.model.segment_labels, dtype=object)
        table = by_group(per_user, labels[seg_of_row])
        extra = {}
        for s, label in enumerate(labels):
            members = seg_of_row == s
            if members.any():
                extra[label] = beyond_accuracy(
                    lists[members, :k],
                    self.train,
                    item_categories=self.model.dataset.items["categories"].tolist(),
                    embeddings=self.model.item_embeddings,
                )
        beyond = pd.DataFrame(extra).T.add_suffix(f"@{k}")
        return table.join(beyond)


@dataclass
class EvalResult:
    table: pd.DataFrame
    weights: dict
    stacking_weights: dict
    split: dict
    seed: int
    ks: tuple
    per_segment: pd.DataFrame

    def to_dict(self) -> dict:
        return {
            "split": self.split,
            "seed": self.seed,
            "ks": list(self.ks),
            "weights": self.weights,
            "stacking_weights": self.stacking_weights,
            "methods": json.loads(self.table.to_json(orient="index")),
            "per_segment": json.loads(self.per_segment.to_json(orient="index")),
        }

    def to_text(self) -> str:
        lines = [
            f"split: {self.split}",
            "fused weights: " + ", ".join(f"{k}={v:.2f}" for k, v in self.weights.items()),
            "stacking weights: " + ", ".join(f"{k}={v:.2f}" for k, v in self.stacking_weights.items()),
            "",
            self.table.to_string(float_format=lambda v: f"{v:.4f}"),
            "",
            "per segment (fused):",
            self.per_segment.to_string(float_format=lambda v: f"{v:.4f}"),
        ]
        return "\n".join(lines)


def run_evaluation(
    dataset: Dataset,
    config: BuildConfig,
    split: str = "temporal",
    test_frac: float = 0.2,
    ks=(10, 20),
    weights="auto",
    cache_dir=None,
    progress=None,
) -> EvalResult:
    """Evaluate baselines, each level alone, and the fusion (auto or given weights) on one split."""
    encoder = Encoder(config.model, cache_dir=cache_dir)
    ctx = EvalContext.from_dataset(dataset, config, encoder, split, test_frac, ks, tune=True, progress=progress)
    chosen = ctx.auto_weights() if weights == "auto" else {lv: float(weights.get(lv, 0.0)) for lv in LEVELS}
    rows = dict(ctx.baselines)
    rows["fused (auto)" if weights == "auto" else "fused"] = ctx.metrics_for(chosen)
    rows["fused (stacking)"] = ctx.metrics_for(ctx.tuned["stacking_weights"])
    table = pd.DataFrame(rows).T
    table = table[[c for c in table.columns if "@" in c]]
    return EvalResult(
        table=table,
        weights=chosen,
        stacking_weights=ctx.tuned["stacking_weights"],
        split=ctx.split_info,
        seed=config.seed,
        ks=tuple(ks),
        per_segment=ctx.per_segment(chosen, min(ks)),
    )
