"""Meso level: each user's and segment's mix over item categories.

P(c|u) is the smoothed, rating- and recency-weighted share of the user's
interactions that fall in category c (an item with several categories splits
its weight between them). Items with no categories at all get derived ones by
clustering their embeddings. Users with no history get their mix predicted
from demographics and text by a random forest (cold start).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import KFold

from mgviz.levels.base import FactorLevel
from mgviz.levels.common import row_normalise
from mgviz.schema import Dataset
from mgviz.text import class_tfidf, count_matrix, top_terms


def item_category_matrix(dataset: Dataset) -> tuple[sp.csr_matrix, list[str]]:
    """Items × categories, each item's row summing to 1 over its categories."""
    cats = dataset.items["categories"]
    names = sorted({c for row in cats for c in row})
    col = {c: j for j, c in enumerate(names)}
    rows, cols = [], []
    for i, row in enumerate(cats):
        for c in row:
            rows.append(i)
            cols.append(col[c])
    m = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(cats), len(names)))
    return row_normalise(m).tocsr(), names


def derive_categories(
    item_embeddings: np.ndarray,
    item_docs: list[str],
    n_categories: int | None = None,
    seed: int = 0,
    item_users: sp.csr_matrix | None = None,
    item_ids=None,
) -> tuple[list[list[str]], list[str]]:
    """Categories for items that have none: K-means over item embeddings, each cluster named
    by its two most distinctive words (class-based TF-IDF over the items' text).

    Items without any text have zero embeddings; when most items are like that the
    clusters come from behaviour instead (a truncated SVD of ``item_users``, the
    items × users matrix), named by their most consumed item.

    Returns one single-category list per item, and the category names.
    """
    n_items = len(item_embeddings)
    k = n_categories or int(np.clip(round(np.sqrt(n_items / 4)), 2, 20))
    k = max(1, min(k, n_items))
    features = item_embeddings
    text_share = float((np.abs(item_embeddings).sum(axis=1) > 0).mean()) if n_items else 0.0
    if text_share < 0.5 and item_users is not None and item_users.nnz and min(item_users.shape) > 2:
        from sklearn.decomposition import TruncatedSVD

        n_comp = max(1, min(32, min(item_users.shape) - 1))
        features = TruncatedSVD(n_components=n_comp, random_state=seed).fit_transform(item_users)
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        features = np.divide(features, norms, out=np.zeros_like(features), where=norms > 0)
    labels = KMeans(n_clusters=k, random_state=seed, n_init=10).fit_predict(features)
    counts, vocab = count_matrix(item_docs, min_df=1, max_df=0.9)
    names = []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        names.append(members)
    cls_counts = sp.vstack([sp.csr_matrix(counts[m].sum(axis=0)) for m in names]) if counts.shape[1] else None
    weights = class_tfidf(cls_counts) if cls_counts is not None else np.zeros((k, 0))
    labels_text = []
    for c in range(k):
        words = [w for w, _ in top_terms(weights[c], vocab, 2)] if weights.shape[1] else []
        if not words and item_users is not None and len(names[c]):
            pop = np.asarray(item_users[names[c]].sum(axis=1)).ravel()
            words = [f"like item {item_ids[names[c][int(np.argmax(pop))]]}"] if item_ids is not None else []
        base = " / ".join(words) if words else f"group {c + 1}"
        while base in labels_text:  # two clusters may share their top words
            base += "'"
        labels_text.append(base)
    return [[labels_text[c]] for c in labels], labels_text


def category_mix(weighted: sp.csr_matrix, item_cats: sp.csr_matrix, smoothing: float = 1.0) -> np.ndarray:
    """P(c|u), users × categories, rows summing to 1.

    ``smoothing`` pseudo-interactions spread like the population's mix keep a
    user with three interactions from being 100 % one category.
    """
    raw = np.asarray((weighted @ item_cats).todense(), dtype=np.float64)
    prior, scale = mix_prior(raw)
    return smooth_mix(raw, prior, scale, smoothing)


def mix_prior(raw: np.ndarray) -> tuple[np.ndarray, float]:
    """The population's category shares and a typical user's total weight (the smoothing scale)."""
    prior = raw.sum(axis=0)
    prior = prior / prior.sum() if prior.sum() > 0 else np.full(raw.shape[1], 1.0 / max(raw.shape[1], 1))
    totals = raw.sum(axis=1)
    # smoothing is relative to a typical user's total weight so it means the same for any log
    scale = float(np.median(totals[totals > 0])) if (totals > 0).any() else 1.0
    return prior, scale


def smooth_mix(raw: np.ndarray, prior: np.ndarray, scale: float, smoothing: float = 1.0) -> np.ndarray:
    mix = np.asarray(raw, dtype=np.float64) + smoothing * 0.1 * scale * np.asarray(prior)[None, :]
    return (mix / mix.sum(axis=1, keepdims=True)).astype(np.float32)


def segment_category_matrix(mix: np.ndarray, segments: np.ndarray, n_segments: int) -> np.ndarray:
    """Segments × categories: the mean category mix of each segment's members."""
    out = np.zeros((n_segments, mix.shape[1]), dtype=np.float32)
    for s in range(n_segments):
        members = segments == s
        if members.any():
            out[s] = mix[members].mean(axis=0)
    return out


def item_given_category(popularity: np.ndarray, item_cats: sp.csr_matrix) -> sp.csr_matrix:
    """P(i|c), items × categories: popularity share of the item within each category."""
    pop = np.asarray(popularity, dtype=np.float64) + 0.5  # unseen items keep a small chance
    weighted = sp.diags(pop) @ item_cats
    col_sums = np.asarray(weighted.sum(axis=0)).ravel()
    inv = np.divide(1.0, col_sums, out=np.zeros_like(col_sums), where=col_sums > 0)
    return (weighted @ sp.diags(inv)).tocsr().astype(np.float32)


class MesoLevel(FactorLevel):
    """P_meso(i|u) = Σ_c P(c|u) P(i|c): a user's category interest spread over each category's items.

    State: every user's category mix (user side), P(i | c) (item side), the item × category
    matrix, the population prior and the smoothing scale (to fold a user in).
    """

    kind = "meso"
    item_arrays = ("item_side", "item_categories", "prior")

    @classmethod
    def fit(cls, mix, popularity, item_cats, weighted, smoothing: float = 1.0, name="meso"):
        raw = np.asarray((weighted @ item_cats).todense(), dtype=np.float64)
        prior, scale = mix_prior(raw)
        p_i_c = item_given_category(popularity, item_cats)  # sparse: items × categories can be wide
        return cls(name, item_cats.shape[0], {"scale": scale, "smoothing": smoothing}, user_side=mix,
                   item_side=p_i_c, item_categories=sp.csr_matrix(item_cats), prior=prior.astype(np.float32))  # fmt: skip

    @property
    def mix(self) -> np.ndarray:
        return self.user_side

    def fold_in(self, evidence) -> dict:
        """The user's mix from their weighted history; an empty history gives ``evidence.predicted_mix``
        (the cold-start predictor's, :func:`refit_cold_start`) or else the population prior (the build's
        cold-start forest is not kept in the run: nothing is pickled)."""
        raw = np.asarray((evidence.weighted @ self.item_categories).todense(), dtype=np.float64)
        predicted = getattr(evidence, "predicted_mix", None)
        if predicted is not None and raw.sum() <= 0:
            mix = np.asarray(predicted, dtype=np.float64).ravel()
            mix = (mix / mix.sum()).astype(np.float32) if mix.sum() > 0 else self.prior.astype(np.float32)
            evidence.derived["mix"] = mix
            return {"user_side": mix}
        mix = smooth_mix(raw, self.prior, self.params["scale"], self.params["smoothing"])[0]
        evidence.derived["mix"] = mix
        return {"user_side": mix}


def category_mix_over_time(
    dataset: Dataset, item_cats: sp.csr_matrix, categories: list[str], freq: str = "QS", user_ids=None
) -> pd.DataFrame:
    """The time granularity, P(c | u, t): category shares per period (long format).

    For the whole population, or only for ``user_ids`` (one user, or a segment's
    members). Columns ``period, category, share``; empty when the log has no timestamps.
    """
    inter = dataset.interactions
    if user_ids is not None:
        inter = inter[inter["user_id"].isin(pd.Index(np.atleast_1d(user_ids)).astype(str))]
    if not dataset.has_time or inter.empty:
        return pd.DataFrame(columns=["period", "category", "share"])
    _, i = dataset.codes(inter)
    period = pd.to_datetime(inter["timestamp"], unit="s").dt.to_period(freq[0]).dt.start_time
    codes, periods = pd.factorize(period, sort=True)
    # periods × interactions one-hot times the interactions' category rows: no interactions × categories array
    onehot = sp.csr_matrix((np.ones(len(codes), np.float32), (codes, np.arange(len(codes)))),
                           shape=(len(periods), len(codes)))  # fmt: skip
    sums = pd.DataFrame(np.asarray((onehot @ item_cats[i]).todense()), columns=categories)
    sums.insert(0, "period", periods)
    sums = sums.set_index("period")
    shares = sums.div(sums.sum(axis=1), axis=0)
    return shares.reset_index().melt(id_vars="period", var_name="category", value_name="share")


def interest_drift(
    dataset: Dataset, item_cats: sp.csr_matrix, categories: list[str], min_each: int = 5
) -> pd.DataFrame:
    """How much each user's category mix moved: the earlier half of their history against the later half.

    Per user (rows follow ``dataset.users``), the interactions are ordered by time (by row order
    when the log has none) and split at the middle. Columns: ``user_id, n_earlier, n_later,
    since`` (time of the first later interaction, or NaN), ``drift`` – the total variation distance
    of the two category mixes, 0 (same mix) to 1 (no category in common); NaN for users with fewer
    than ``min_each`` interactions on either side – and ``rising``/``rising_gain``,
    ``falling``/``falling_loss``: the category whose share grew (shrank) most, and by how much.
    Memory grows with the log and users × categories, never users × items.
    """
    inter = dataset.interactions
    n_users, n_cats = len(dataset.users), len(categories)
    u, i = dataset.codes(inter)
    t = inter["timestamp"].to_numpy(dtype=float) if dataset.has_time else np.arange(len(inter), dtype=float)
    order = np.lexsort((np.arange(len(u)), t, u))  # by user, then time, then row: ties keep the log's order
    u, i, t = u[order], i[order], t[order]
    counts = np.bincount(u, minlength=n_users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(u)) - starts[u]
    later = rank >= counts[u] // 2
    n_later = np.bincount(u[later], minlength=n_users)
    n_earlier = counts - n_later

    def mix(mask):
        x = sp.csr_matrix((np.ones(int(mask.sum()), np.float32), (u[mask], i[mask])),
                          shape=(n_users, item_cats.shape[0]))  # fmt: skip
        m = np.asarray((x @ item_cats).todense(), dtype=np.float64)
        total = m.sum(axis=1, keepdims=True)
        return np.divide(m, total, out=np.zeros_like(m), where=total > 0)

    early, late = mix(~later), mix(later)
    diff = late - early
    ok = (n_earlier >= min_each) & (n_later >= min_each) & (n_cats > 0)
    drift = np.where(ok, 0.5 * np.abs(diff).sum(axis=1), np.nan)
    since = np.full(n_users, np.nan)
    first_later = starts + counts // 2
    has = counts > 0
    since[has] = t[np.minimum(first_later[has], len(t) - 1)]
    if not dataset.has_time:
        since[:] = np.nan
    cats = np.asarray(categories, dtype=object)
    up = diff.argmax(axis=1) if n_cats else np.zeros(n_users, int)
    down = diff.argmin(axis=1) if n_cats else np.zeros(n_users, int)
    rows = np.arange(n_users)
    return pd.DataFrame(
        {
            "user_id": dataset.users["user_id"].astype(str).to_numpy(),
            "n_earlier": n_earlier,
            "n_later": n_later,
            "since": since,
            "drift": drift,
            "rising": np.where(ok, cats[up] if n_cats else "", ""),
            "rising_gain": np.where(ok, diff[rows, up] if n_cats else 0.0, np.nan),
            "falling": np.where(ok, cats[down] if n_cats else "", ""),
            "falling_loss": np.where(ok, -diff[rows, down] if n_cats else 0.0, np.nan),
        }
    )


def history_halves(dataset: Dataset, item_cats: sp.csr_matrix, row: int) -> tuple[np.ndarray, np.ndarray]:
    """One user's category mix in the earlier and in the later half of their history (as in :func:`interest_drift`)."""
    inter = dataset.interactions
    uid = str(dataset.users["user_id"].iloc[row])
    mine = inter[inter["user_id"] == uid]
    if dataset.has_time:
        mine = mine.sort_values("timestamp", kind="stable")
    _, i = dataset.codes(mine)
    half = len(i) // 2
    out = []
    for part in (i[:half], i[half:]):
        m = np.asarray(item_cats[part].sum(axis=0)).ravel().astype(np.float64)
        out.append(m / m.sum() if m.sum() > 0 else m)
    return out[0], out[1]


@dataclass
class ColdStartModel:
    """Predicts P(c|u) from user features (demographics one-hot + text embedding).

    ``quality_`` holds cross-validated figures against the population prior:
    ``mae``, ``mae_prior``, ``top1_accuracy``, ``top1_prior``, ``n_users``.
    """

    forest: RandomForestRegressor | None
    feature_names: list[str]
    quality_: dict

    def predict(self, features: np.ndarray) -> np.ndarray:
        pred = self.forest.predict(features)
        pred = np.clip(pred, 1e-6, None)
        return (pred / pred.sum(axis=1, keepdims=True)).astype(np.float32)


@dataclass
class DemographicColumn:
    """How one demographic column becomes features: a numeric column standardised (missing values
    take the median), a categorical one one-hot over its 30 most frequent values (``?`` = missing)."""

    name: str
    numeric: bool
    median: float = 0.0
    mean: float = 0.0
    std: float = 1.0
    values: tuple[str, ...] = ()

    @property
    def feature_names(self) -> list[str]:
        return [self.name] if self.numeric else [f"{self.name}={v}" for v in self.values]

    def encode(self, values: pd.Series) -> np.ndarray:
        """len(values) × features, float32."""
        if self.numeric:
            filled = pd.to_numeric(values, errors="coerce").fillna(self.median)
            return ((filled - self.mean) / self.std).to_numpy(np.float32)[:, None]
        as_str = values.astype("string").fillna("?")
        return np.stack([(as_str == v).to_numpy(np.float32) for v in self.values], axis=1)


def demographic_columns(users: pd.DataFrame, cols: list[str]) -> list[DemographicColumn]:
    """The encoding of each demographic column, as the population ``users`` defines it."""
    out = []
    for col in cols:
        values = users[col]
        numeric = pd.to_numeric(values, errors="coerce")
        if numeric.notna().mean() > 0.9:
            filled = numeric.fillna(numeric.median())
            out.append(DemographicColumn(col, True, float(numeric.median()), float(filled.mean()),
                                         float(filled.std() or 1.0)))  # fmt: skip
        else:
            top = values.astype("string").fillna("?").value_counts().index[:30]
            out.append(DemographicColumn(col, False, values=tuple(str(v) for v in top)))
    return out


def user_features(dataset: Dataset, user_text_embeddings: np.ndarray | None) -> tuple[np.ndarray, list[str]]:
    """Demographics (numeric standardised, categorical one-hot) and, when present, text embedding."""
    blocks, names = [], []
    users = dataset.users
    for spec in demographic_columns(users, dataset.demographic_cols):
        blocks.append(spec.encode(users[spec.name]))
        names.extend(spec.feature_names)
    if user_text_embeddings is not None and np.abs(user_text_embeddings).sum() > 0:
        blocks.append(user_text_embeddings.astype(np.float32))
        names.extend(f"text_{j}" for j in range(user_text_embeddings.shape[1]))
    if not blocks:
        return np.zeros((len(users), 0), np.float32), []
    return np.hstack(blocks), names


COLD_START_SAMPLE = 20_000


def _forest(seed: int) -> RandomForestRegressor:
    # sqrt features per split: text embeddings are wide, and this keeps a fit to seconds
    return RandomForestRegressor(
        n_estimators=60, max_depth=10, min_samples_leaf=3, max_features="sqrt", random_state=seed, n_jobs=1
    )


def fit_cold_start(
    features: np.ndarray, mix: np.ndarray, has_history: np.ndarray, seed: int = 0, min_users: int = 30
) -> ColdStartModel | None:
    """Random forest from features to category mix, fit on users with history; None when
    there are no features or too few such users."""
    train = _cold_start_users(features, mix, has_history, seed, min_users)
    if train is None:
        return None
    X, Y = features[train], mix[train]
    prior = Y.mean(axis=0)
    pred = np.zeros_like(Y)
    for fit_idx, test_idx in KFold(n_splits=3, shuffle=True, random_state=seed).split(X):
        forest = _forest(seed)
        forest.fit(X[fit_idx], Y[fit_idx])
        pred[test_idx] = forest.predict(X[test_idx])
    quality = {
        "n_users": int(len(train)),
        "mae": float(np.abs(pred - Y).mean()),
        "mae_prior": float(np.abs(prior[None, :] - Y).mean()),
        "top1_accuracy": float((pred.argmax(1) == Y.argmax(1)).mean()),
        "top1_prior": float((prior.argmax() == Y.argmax(1)).mean()),
    }
    forest = _forest(seed)
    forest.fit(X, Y)
    return ColdStartModel(forest, [], quality)


def _cold_start_users(features, mix, has_history, seed: int, min_users: int) -> np.ndarray | None:
    """The rows the forest learns from (users with history, a seeded sample of a big log), or None."""
    train = np.flatnonzero(has_history)
    if features.shape[1] == 0 or len(train) < min_users or mix.shape[1] < 2:
        return None
    if len(train) > COLD_START_SAMPLE:  # a forest on a seeded sample of users: same quality, bounded time
        train = np.sort(np.random.default_rng(seed).choice(train, COLD_START_SAMPLE, replace=False))
    return train


def refit_cold_start(
    features: np.ndarray, mix: np.ndarray, has_history: np.ndarray, seed: int = 0, min_users: int = 30
) -> ColdStartModel | None:
    """The forest :func:`fit_cold_start` ends with, fitted again on the same users (no cross-validation).

    A run keeps no forest (nothing is pickled), but it keeps what the forest learnt from – the users'
    features and the mixes of users with history – so the same seed gives the build's predictor back.
    ``quality_`` is empty: the build's cross-validated figures are in the run's manifest.
    """
    train = _cold_start_users(features, mix, has_history, seed, min_users)
    if train is None:
        return None
    forest = _forest(seed)
    forest.fit(features[train], mix[train])
    return ColdStartModel(forest, [], {})
