"""Choosing each level's hyper-parameters on a validation split, before the fusion weights.

Everything here is fit on ``fit`` (the training part minus validation) and scored against
``target`` (the validation part): the test part of an evaluation is never passed in. Each
level is tuned on its own validation NDCG@10, one parameter at a time (coordinate search over
short grids), so the cost is a fixed number of fits – the *budget*, reported with the time:

* **EASE λ** over a wide log grid (:data:`EASE_GRID`; XᵀX is computed once);
* **ALS**: recency half-life of the interaction weights, then α, factors and regularisation;
* **time level**: how many latest items count with their half-life, the share of "what
  followed" and of "what is rising" (no refit: the level's parts are re-mixed);
* the **baselines** shown beside the fused list: EASE (the same λ curve) and item-kNN
  (neighbours), with the same validation users – so "beats EASE" means a tuned EASE.

A big log is tuned on a seeded sample of users (:data:`TUNE_MAX_INTERACTIONS`); EASE's λ is
then scaled to the whole log (XᵀX grows with the users), and the info says so.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mgviz.config import BuildConfig
from mgviz.evaluation.metrics import ranking_metrics
from mgviz.fusion import top_n
from mgviz.levels.base import iter_blocks, normalise_rows
from mgviz.levels.common import weighted_matrix
from mgviz.levels.micro import FitCache, ease_from_gram, fit_als, item_gram, micro_item_model
from mgviz.levels.time import TimeLevel
from mgviz.schema import Dataset

EASE_GRID = (50.0, 200.0, 500.0, 1_000.0, 2_000.0, 5_000.0, 10_000.0, 25_000.0)
HALF_LIFE_GRID = (None, 30.0, 180.0, 730.0)
ALPHA_GRID = (1.0, 10.0, 40.0)
FACTORS_GRID = (32, 64, 128)
REG_GRID = (0.01, 0.05, 0.5)
TIME_RECENT_GRID = ((3, 1.0), (5, 2.0), (10, 3.0), (20, 5.0), (50, 10.0))
TIME_NEXT_GRID = (0.0, 0.3, 0.6, 1.0)
TIME_TREND_GRID = (0.0, 0.1)
KNN_GRID = (20, 50, 100, 200, 400)
#: Above this many interactions in the fit part, levels are tuned on a seeded sample of users.
TUNE_MAX_INTERACTIONS = 1_500_000
#: Each setting is scored on at most this many validation users (a seeded sample; all of them by default
#: up to it): the standard error of a mean NDCG@10 over 4,000 users is about 0.004.
TUNE_MAX_ROWS = 4_000


def _ndcg(scores: np.ndarray, exclude: sp.csr_matrix, target: sp.csr_matrix, k: int = 10) -> float:
    """Validation NDCG@k of ``scores`` (changed in place: excluded cells become -inf).

    The top k by a float partition, then ordered by score and item index – :func:`top_n`'s lists
    except where equal scores straddle the k-th place, at a fraction of its cost (tuning scores
    every setting on every validation user)."""
    scores = np.asarray(scores, dtype=np.float32)
    kk = min(k, scores.shape[1])
    if kk < k or not scores.flags.writeable:
        return float(ranking_metrics(top_n(scores, k, exclude=exclude), target, ks=(k,))[k]["ndcg"])
    ex = sp.csr_matrix(exclude).tocoo()
    scores[ex.row, ex.col] = -np.inf
    part = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -vals), axis=-1)
    lists = np.take_along_axis(part, order, axis=1)
    lists[np.take_along_axis(vals, order, axis=1) == -np.inf] = -1
    return float(ranking_metrics(lists, target, ks=(k,))[k]["ndcg"])


class _Scorer:
    """Validation NDCG@k of score functions over the validation users, a block at a time."""

    def __init__(self, rows: np.ndarray, exclude: sp.csr_matrix, target: sp.csr_matrix, n_items: int, k: int = 10):
        self.rows, self.exclude, self.target, self.n_items, self.k = rows, exclude, target, n_items, k

    def __call__(self, score_block) -> float:
        """``score_block(rows)`` gives len(rows) × items scores; mean NDCG over all validation users."""
        total, n = 0.0, 0
        for block in iter_blocks(self.rows, self.n_items, cells=8_000_000):
            s = score_block(block)
            total += _ndcg(s, self.exclude[block], self.target[block], self.k) * len(block)
            n += len(block)
        return total / max(n, 1)


def tuning_sample(fit: Dataset, seed: int, max_interactions: int = TUNE_MAX_INTERACTIONS) -> Dataset:
    """What tuning fits on: ``fit`` itself, or the whole histories of a seeded sample of its users
    when it has more than ``max_interactions`` interactions (see :func:`tune_levels`' ``population``)."""
    return _sample(fit, max_interactions, seed)[0]


def _sample(fit: Dataset, max_interactions: int, seed: int) -> tuple[Dataset, float]:
    """``fit`` itself, or the whole histories of a seeded sample of users with about
    ``max_interactions`` interactions; and the share of users kept."""
    n = len(fit.interactions)
    if n <= max_interactions:
        return fit, 1.0
    from mgviz.evaluation.report import sample_users

    keep = max(50, int(len(fit.users) * max_interactions / n))
    return sample_users(fit, keep, seed), keep / len(fit.users)


def tune_levels(fit: Dataset, val_df: pd.DataFrame, config: BuildConfig, rows_cap: int | None = TUNE_MAX_ROWS,
                progress=None, fixed=(), cache: FitCache | None = None,
                population: int | None = None) -> dict:  # fmt: skip
    """The chosen settings and how they were chosen; settings named in ``fixed`` (the user set
    them) keep their value and are not tuned. The chosen ALS and EASE fits go into ``cache``
    (when the whole of ``fit`` was used), so a build of ``fit`` with the chosen settings reuses them.

    Returns ``{"params": {setting: value}, "baselines": {"ease": {"l2"}, "itemknn": {"neighbours"}},
    "curves": [{"level", "param", "value", "ndcg", "chosen"}], "seconds", "fits", "sample"}``;
    ``params`` are :class:`BuildConfig` fields, ready for ``dataclasses.replace``.

    ``population``: ``fit`` is already a user sample (:func:`tuning_sample`) of a log with this many
    users; otherwise a big ``fit`` is sampled here. EASE's λ is then scaled to the whole log, and
    ``sample_params`` holds the unscaled λ for a build of the sample itself.
    """
    from mgviz.evaluation.report import evaluated_rows

    t0 = time.perf_counter()
    if population is None:
        full_users = len(fit.users)
        fit, share = _sample(fit, TUNE_MAX_INTERACTIONS, config.seed)
    else:
        full_users, share = population, len(fit.users) / max(population, 1)
    n_items = len(fit.items)
    seen = (fit.matrix() > 0).astype(np.float32).tocsr()
    target = fit.matrix(val_df[val_df["user_id"].isin(pd.Index(fit.users["user_id"]))])
    target = (target > 0).astype(np.float32).tocsr()
    rows, _ = evaluated_rows(target, config.seed)
    if rows_cap is not None and len(rows) > rows_cap:
        rows = np.sort(np.random.default_rng(config.seed).choice(rows, rows_cap, replace=False))
    score = _Scorer(rows, seen, target, n_items)
    curves: list[dict] = []
    fits = 0

    def report(step: str):
        if progress:
            progress(f"tuning: {step}", 0, 1)

    def record(level, param, value, ndcg):
        curves.append({"level": level, "param": param, "value": value, "ndcg": round(float(ndcg), 6), "chosen": False})

    def choose(level, param):
        mine = [c for c in curves if c["level"] == level and c["param"] == param]
        best = max(mine, key=lambda c: c["ndcg"])  # first of equals: grids are in order of preference
        best["chosen"] = True
        return best["value"]

    params: dict = {}
    sample_params: dict = {}
    baselines: dict = {}
    effective = micro_item_model(config.micro_model, n_items, config.ease_max_items)
    # ---------------------------------------------------------------- EASE λ (micro part, baseline, time level)
    ease_b = None
    if n_items <= config.ease_max_items and seen.nnz:
        report("EASE λ")
        gram = item_gram(seen)
        top = -1.0
        for lam in EASE_GRID:
            b = ease_from_gram(gram, lam)
            fits += 1
            ndcg = score(lambda blk, b=b: np.asarray(seen[blk] @ b))
            record("ease", "l2", lam, ndcg)
            if ndcg > top:  # keep only the best weights (items² floats each)
                top, ease_b = ndcg, b
            del b
        best = choose("ease", "l2")
        baselines["ease"] = {"l2": best / share}
        if "ease_l2" in fixed:  # the user's λ, also for the time level's neighbours
            ease_b = ease_from_gram(gram, config.ease_l2 * share)
        elif "ease" in effective:
            params["ease_l2"] = best / share
            if share < 1.0:
                sample_params["ease_l2"] = best
            if cache is not None:
                cache.put(FitCache.ease_key(seen, best), ease_b)
        del gram
    # ---------------------------------------------------------------- ALS, one setting at a time
    if "als" in effective and seen.nnz:
        current = {"half_life_days": config.half_life_days, "alpha": config.alpha, "factors": config.factors,
                   "regularization": config.regularization}  # fmt: skip
        done: dict = {}
        kept: dict = {}  # the factors of the best settings so far: the search ends on one of them

        def als_ndcg(setting):
            key = tuple(sorted(setting.items(), key=lambda kv: kv[0]))
            if key not in done:
                nonlocal fits
                w = weighted_matrix(fit, setting["half_life_days"])
                u, v = fit_als(w, int(setting["factors"]), float(setting["regularization"]), config.iterations,
                               float(setting["alpha"]), config.seed)  # fmt: skip
                fits += 1
                done[key] = score(lambda blk: u[blk] @ v.T)
                if cache is not None:
                    top = max(done.values())
                    for old in [k for k in kept if done[k] < top]:
                        del kept[old]
                    if done[key] >= top:
                        kept[key] = (w, (u, v))
            return done[key]

        grids = [("half_life_days", HALF_LIFE_GRID if fit.has_time else (config.half_life_days,)),
                 ("alpha", ALPHA_GRID), ("factors", FACTORS_GRID), ("regularization", REG_GRID)]  # fmt: skip
        for name, grid in grids:
            if name in fixed:
                continue
            report(f"ALS {name}")
            values = list(dict.fromkeys([*grid, current[name]]))
            for value in values:
                record("als", name, value, als_ndcg({**current, name: value}))
            current[name] = choose("als", name)
        params.update({k: v for k, v in current.items() if k not in fixed})
        final = kept.get(tuple(sorted(current.items(), key=lambda kv: kv[0])))
        if final is not None:
            w, factors = final
            cache.put(FitCache.als_key(w, current["factors"], current["regularization"], config.iterations,
                                       current["alpha"], config.seed), factors)  # fmt: skip
        kept.clear()
    # ---------------------------------------------------------------- time level (no refit per setting)
    report("time level")
    level = TimeLevel.from_dataset(fit, seen, ease_b)
    fits += 1
    best = (-1.0, None)
    recent_grid = TIME_RECENT_GRID
    if "time_recent" in fixed or "time_half_life" in fixed:
        recent_grid = [(config.time_recent, config.time_half_life)]
    next_grid = (config.time_next_share,) if "time_next_share" in fixed else TIME_NEXT_GRID
    trend_grid = (config.time_trend_share,) if "time_trend_share" in fixed else TIME_TREND_GRID
    for recent, half_life in recent_grid:
        lv = level.with_params(recent_items=recent, half_life=half_life)
        parts = {}
        for blk in iter_blocks(rows, n_items, cells=8_000_000):
            parts[blk[0]] = (blk, lv.signals(lv._user_block(blk)))
        for nxt in next_grid:
            for trend in trend_grid:
                if nxt + trend > 1.0:
                    continue
                total = 0.0
                for blk, p in parts.values():
                    s = p["neighbours"] * np.float32(1 - nxt - trend) + p["next"] * np.float32(nxt)
                    if trend:
                        s = s + p["rising"] * np.float32(trend)
                    total += _ndcg(normalise_rows(s), seen[blk], target[blk]) * len(blk)
                ndcg = total / max(len(rows), 1)
                record("time", "setting", f"{recent} items, half-life {half_life:g}, next {nxt:g}, rising {trend:g}",
                       ndcg)  # fmt: skip
                if ndcg > best[0]:
                    best = (ndcg, (recent, half_life, nxt, trend))
    if best[1] is not None:
        choose("time", "setting")
        recent, half_life, nxt, trend = best[1]
        params.update(time_recent=int(recent), time_half_life=float(half_life), time_next_share=float(nxt),
                      time_trend_share=float(trend))  # fmt: skip
    # ---------------------------------------------------------------- item-kNN baseline
    if seen.nnz:
        report("item-kNN baseline")
        from mgviz.evaluation.baselines import item_knn

        for k in KNN_GRID:
            if k >= n_items:
                continue
            lv = item_knn(seen, k=k)
            fits += 1
            record("itemknn", "neighbours", k, score(lambda blk, lv=lv: lv.raw(blk)))
        if any(c["level"] == "itemknn" for c in curves):
            baselines["itemknn"] = {"neighbours": int(choose("itemknn", "neighbours"))}
    info = {
        "params": params,
        "baselines": baselines,
        "curves": curves,
        "seconds": round(time.perf_counter() - t0, 2),
        "fits": fits,
        "validation_users": int(len(rows)),
    }
    if sample_params:
        info["sample_params"] = sample_params
    if share < 1.0:
        info["sample"] = (f"tuned on a seeded sample of {len(fit.users):,} of {full_users:,} users "
                          f"(EASE λ scaled by {1 / share:.2f} to the whole log)")  # fmt: skip
    return info
