"""Exploration helpers behind the dashboard (no Streamlit): summaries, re-segmentation, user views,
reasons for recommendations, export bytes. Every function takes plain data or a fitted model.

The pages call these through the cached wrappers in :mod:`ui.cache`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mgviz.export import safe_csv_frame
from mgviz.levels import macro, meso
from mgviz.pipeline import InterestModel
from mgviz.runs import library_versions
from mgviz.schema import LEVELS, Dataset
from mgviz.stability import k_stability, segment_stability

LEVEL_PHRASES = {
    "meso": "matches your interest in {category} (meso)",
    "macro": "users in your segment ({segment}) like it (macro)",
    "micro": "people who chose “{similar}” chose it too (micro)",
    "micro_plain": "people with a history like yours chose it (micro)",
    "semantic": "its text mentions “{keyword}”, one of your interests (semantic)",
    "semantic_plain": "its description is close to your profile (semantic)",
    # items without a description (MovieLens: titles and genres only) – say what was compared
    "semantic_fields": "its {fields} {verb} close to your profile (semantic)",
    "time": "it goes with “{recent}”, {when} (time)",
    "time_plain": "it goes with what you chose most recently (time)",
    "social": "{n} of your friends chose it (social)",
    "social_one": "1 of your friends chose it (social)",
    "social_plain": "friends of your friends chose it (social)",
}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def digest(*parts) -> str:
    """Short stable hash of JSON-able parts and bytes (a cache token)."""
    h = hashlib.sha1()
    for part in parts:
        h.update(part if isinstance(part, bytes) else json.dumps(part, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


# ----------------------------------------------------------------------------------------------- data
def data_summary(dataset: Dataset) -> dict:
    """Counts, sparsity, time span and per-item / per-user activity of a dataset."""
    inter = dataset.interactions
    n_users, n_items, n = len(dataset.users), len(dataset.items), len(inter)
    pairs = inter[["user_id", "item_id"]].drop_duplicates().shape[0] if n else 0
    out = {
        "users": n_users,
        "items": n_items,
        "interactions": n,
        "sparsity": 1.0 - pairs / max(n_users * n_items, 1),
        "per_user_median": float(inter.groupby("user_id").size().median()) if n else 0.0,
        "item_counts": inter["item_id"].value_counts().reindex(dataset.item_ids, fill_value=0).to_numpy(),
        "ratings": inter["rating"].to_numpy() if dataset.has_rating else np.array([]),
        "has_time": dataset.has_time,
        "start": None,
        "end": None,
        "categories": int(len({c for row in dataset.items["categories"] for c in row})),
        "demographics": list(dataset.demographic_cols),
    }
    if dataset.has_time and n:
        out["start"] = pd.to_datetime(inter["timestamp"].min(), unit="s")
        out["end"] = pd.to_datetime(inter["timestamp"].max(), unit="s")
    return out


def time_span(summary: dict) -> str:
    """ "3 Jan 2025 – 30 Dec 2025 (361 days)", or a note when the log has no time."""
    if summary["start"] is None:
        return "no timestamps"
    start, end = summary["start"], summary["end"]
    days = (end - start).days
    return f"{start:%d %b %Y} – {end:%d %b %Y} ({days:,} days)"


# ----------------------------------------------------------------------------------------------- macro
@dataclasses.dataclass
class TermStats:
    """What re-profiling segments needs besides the model: interaction weights and term counts."""

    weighted: sp.csr_matrix
    term_counts: sp.csr_matrix
    vocabulary: np.ndarray


def term_stats(model: InterestModel) -> TermStats:
    """The build's interaction weights and per-user term counts (from the model's text state)."""
    return TermStats(model.weighted, model.text.term_counts(model.weighted), model.text.vocabulary)


@dataclasses.dataclass
class Segmentation:
    """Segments for one K on the stored user vectors."""

    k: int
    segments: np.ndarray
    centroids: np.ndarray
    profiles: list
    segment_category: np.ndarray


def resegment(model: InterestModel, k: int, stats: TermStats) -> Segmentation:
    """K-means with ``k`` segments on the model's user vectors, profiled like the build does."""
    ds = model.dataset
    segments, centroids, _ = macro.fit_segments(model.user_vectors, k, model.config.seed)
    k = len(centroids)  # fewer when the users have fewer distinct vectors than k
    profiles = macro.profile_segments(
        segments, k, model.category_mix, model.categories, stats.term_counts, stats.vocabulary, stats.weighted,
        ds.items, ds.users, ds.demographic_cols,
    )  # fmt: skip
    seg_cat = meso.segment_category_matrix(model.category_mix, segments, k)
    return Segmentation(k, segments, centroids, profiles, seg_cat)


def current_segmentation(model: InterestModel) -> Segmentation:
    """The model's own segments wrapped like :func:`resegment`'s result."""
    k = len(model.profiles)
    return Segmentation(k, model.segments, np.zeros((k, 0)), model.profiles, model.segment_category)


def with_segmentation(
    model: InterestModel, seg: Segmentation, stats: TermStats, stability: dict | None = None
) -> InterestModel:
    """A copy of ``model`` whose macro level (segments, profiles, membership, P(item | segment)) uses ``seg``.

    ``stability`` is ``seg``'s record (:func:`segmentation_stability`); the copy keeps the model's
    stability per K, which does not depend on the K chosen.
    """
    old = model.levels["macro"]
    level = macro.MacroLevel.fit(model.user_vectors, seg.centroids, stats.weighted, old.params["block_weights"])
    config = dataclasses.replace(model.config, k=seg.k)
    if stability is not None:
        stability = {**stability, "per_k": (model.stability or {}).get("per_k")}
    return dataclasses.replace(
        model, config=config, segments=seg.segments, profiles=seg.profiles, segment_category=seg.segment_category,
        levels={**model.levels, "macro": level}, stability=stability,
    )  # fmt: skip


def segmentation_stability(model: InterestModel, seg: Segmentation) -> dict:
    """How stable ``seg``'s segments are (:func:`mgviz.stability.segment_stability`): the build's
    record when ``seg`` is the model's own segmentation, otherwise measured now on the stored vectors."""
    own = model.stability
    if own is not None and own.get("k") == seg.k and np.array_equal(seg.segments, model.segments):
        return own
    return segment_stability(model.user_vectors, seg.segments, seg.k, model.config.seed)


def stability_per_k(model: InterestModel) -> pd.DataFrame:
    """Mean ARI across seeds for each K of the K chart (columns ``k, ari_seeds``): the build's, or
    measured now for a run made before mgviz measured it (empty without a K chart)."""
    per_k = (model.stability or {}).get("per_k")
    if per_k is not None:
        return pd.DataFrame(per_k, columns=["k", "ari_seeds"])
    ks = model.k_scores["k"].tolist() if model.k_scores is not None else []
    return k_stability(model.user_vectors, ks, model.config.seed)


MICRO_NAMES = {"als": "ALS", "ease": "EASE", "knn": "item-kNN"}


def micro_model_note(model: InterestModel) -> str:
    """Which micro model the run uses, and why when EASE was replaced (too many items for its inverse)."""
    params = model.levels["micro"].params
    used = " + ".join(MICRO_NAMES.get(p, p) for p in params.get("effective", "als").split("+"))
    asked = params.get("micro_model", "")
    if "ease" in asked and "ease" not in params.get("effective", ""):
        return (f"Micro: {used} – {len(model.item_ids):,} items is more than EASE's "
                f"{model.config.ease_max_items:,} (ease_max_items)")  # fmt: skip
    return f"Micro: {used}"


def selection_summary(
    model: InterestModel, rows: Sequence[int], segments: np.ndarray, labels: Sequence[str], n: int = 5
) -> dict:
    """Count, top categories (mean mix) and segment shares of the selected users."""
    rows = np.unique(np.asarray(rows, dtype=int))
    if rows.size == 0:
        return {"count": 0, "categories": {}, "segments": {}, "lift": {}}
    mix = model.category_mix[rows].mean(axis=0)
    population = model.category_mix.mean(axis=0)
    order = np.argsort(-mix, kind="stable")[:n]
    seg_counts = pd.Series(np.asarray(segments)[rows]).value_counts(normalize=True)
    return {
        "count": int(rows.size),
        "categories": {model.categories[j]: float(mix[j]) for j in order},
        "lift": {model.categories[j]: float(mix[j] / max(population[j], 1e-12)) for j in order},
        "segments": {f"{int(s)}: {labels[int(s)]}": float(v) for s, v in seg_counts.items()},
    }


# ----------------------------------------------------------------------------------------------- micro
def user_history(model: InterestModel, user_id: str) -> pd.DataFrame:
    """The user's interactions: ``time, item_id, title, category, rating, text``, oldest first."""
    ds = model.dataset
    inter = ds.interactions
    mine = inter[inter["user_id"] == str(user_id)]
    items = ds.items.set_index("item_id")
    cats = items["categories"].reindex(mine["item_id"])
    time = pd.to_datetime(mine["timestamp"], unit="s") if ds.has_time else np.arange(1, len(mine) + 1)
    return pd.DataFrame(
        {
            "time": time,
            "item_id": mine["item_id"].to_numpy(),
            "title": items["title"].reindex(mine["item_id"]).fillna("").to_numpy(),
            "category": [c[0] if isinstance(c, list | np.ndarray) and len(c) else "(none)" for c in cats],
            "categories": [", ".join(c) if isinstance(c, list | np.ndarray) else "" for c in cats],
            "rating": mine["rating"].to_numpy(),
            "text": mine["text"].to_numpy() if "text" in mine else "",
        }
    ).sort_values("time", kind="stable")


def top_items(model: InterestModel, row: int, level: str, n: int = 10) -> pd.DataFrame:
    """The ``n`` best unseen items of one level for user ``row``: ``item_id, title, categories, score``."""
    top, vals = model.levels[level].top_k([row], n, exclude=model.seen)
    keep = top[0] >= 0
    idx, scores = top[0][keep], vals[0][keep]
    items = model.dataset.items
    return pd.DataFrame(
        {
            "item_id": items["item_id"].to_numpy()[idx],
            "title": items["title"].to_numpy()[idx],
            "categories": [", ".join(c) for c in items["categories"].to_numpy()[idx]],
            "score": scores.astype(float),
        }
    )


DRIFT_COLUMNS = ("earlier half of history", "later half of history", "time level's list", "micro level's list")


def drift_table(model: InterestModel, strong: float = 0.5) -> pd.DataFrame:
    """:func:`mgviz.levels.meso.interest_drift` with each user's segment, most drifting first
    (users with too little history last); ``strong`` marks the users whose mix moved more than that."""
    frame = meso.interest_drift(model.dataset, model.item_categories, model.categories)
    labels = np.asarray([p.label for p in model.profiles], dtype=object)
    segments = np.asarray(model.segments)
    frame.insert(1, "row", np.arange(len(frame)))
    frame.insert(2, "segment", segments)
    frame.insert(3, "segment_label", labels[segments] if len(labels) else "")
    frame["strong"] = frame["drift"] >= strong
    return frame.sort_values(["drift", "row"], ascending=[False, True], na_position="last", kind="stable")


def drift_by_segment(table: pd.DataFrame) -> pd.DataFrame:
    """Per segment: users with enough history, their median drift, the share that moved strongly and the
    category most often rising among those."""
    valid = table.dropna(subset=["drift"])
    rows = []
    for seg, part in valid.groupby("segment", sort=True):
        strong = part[part["strong"]]
        rising = strong["rising"].value_counts()
        rows.append(
            {
                "segment": int(seg),
                "label": str(part["segment_label"].iloc[0]),
                "users": len(part),
                "median drift": float(part["drift"].median()),
                "moved strongly": len(strong) / len(part),
                "most often rising": str(rising.index[0]) if len(rising) else "",
            }
        )
    return pd.DataFrame(rows, columns=["segment", "label", "users", "median drift", "moved strongly",
                                       "most often rising"])  # fmt: skip


def drift_view(model: InterestModel, row: int, n: int = 10) -> pd.DataFrame:
    """One user's category mix in the earlier and later half of their history, and in the top-``n``
    lists of the time level (recent behaviour) and of the micro level (the whole history).

    Long frame ``category, what, share`` (``what`` one of :data:`DRIFT_COLUMNS`); a level the run does
    not have is left out. A time level that picks up a drift shows a list mix close to the later half.
    """
    early, late = meso.history_halves(model.dataset, model.item_categories, row)
    mixes = dict(zip(DRIFT_COLUMNS[:2], (early, late), strict=True))
    for level, what in (("time", DRIFT_COLUMNS[2]), ("micro", DRIFT_COLUMNS[3])):
        if level not in model.levels:
            continue
        top = model.levels[level].top_k([row], n, exclude=model.seen)[0][0]
        m = np.asarray(model.item_categories[top[top >= 0]].sum(axis=0)).ravel().astype(np.float64)
        mixes[what] = m / m.sum() if m.sum() > 0 else m
    frame = pd.DataFrame(mixes, index=pd.Index(model.categories, name="category"))
    return frame.reset_index().melt(id_vars="category", var_name="what", value_name="share")


def list_category_share(model: InterestModel, rows, level: str, categories, n: int = 10) -> np.ndarray:
    """Per user row: the share of a level's top-``n`` list whose items carry one of ``categories``
    (``categories`` a list per row) – e.g. how much of the time level's list follows a later interest."""
    rows = np.asarray(rows, dtype=int)
    top, _ = model.levels[level].top_k(rows, n, exclude=model.seen)
    index = {c: j for j, c in enumerate(model.categories)}
    ic = model.item_categories.tocsr()
    out = np.zeros(len(rows))
    for r, (items, cats) in enumerate(zip(top, categories, strict=True)):
        items = items[items >= 0]
        wanted = [index[c] for c in cats if c in index]
        if len(items) and wanted:
            out[r] = float((ic[items][:, wanted].sum(axis=1) > 0).mean())
    return out


def friends_of(model: InterestModel, row: int) -> pd.DataFrame:
    """User ``row``'s direct friends, strongest edge first: ``user_id, row, weight, segment, shared``
    (how many items the two both chose). Empty when the run has no friends file or the user no friends."""
    level = model.levels.get("social")
    columns = ["user_id", "row", "weight", "segment", "shared"]
    if level is None:
        return pd.DataFrame(columns=columns)
    rows, weights = level.friends_of(row)
    seen = model.seen
    shared = np.asarray(seen[rows].multiply(seen[row]).sum(axis=1)).ravel().astype(int) if len(rows) else []
    return pd.DataFrame({"user_id": model.user_ids[rows].astype(str), "row": rows, "weight": weights,
                         "segment": model.segments[rows].astype(int), "shared": shared}, columns=columns)  # fmt: skip


def homophily(model: InterestModel, segments: np.ndarray | None = None) -> pd.DataFrame:
    """How much the segments follow the friendship graph, one row per segment.

    ``edges``: friendships with at least one end in the segment, ``inside``: those with both ends in it,
    ``share``: the share of the members' friends who are members too (2 · inside / the members' friendship
    ends), ``expected``: that share under random mixing (the chance that a friendship end lands on a
    member, given everyone's number of friends: the segment's share of all friendship ends), ``lift``:
    share / expected (1: the graph ignores the segment; higher: friends cluster in it). Empty without a
    friends file.
    """
    level = model.levels.get("social")
    columns = ["segment", "edges", "inside", "share", "expected", "lift"]
    if level is None:
        return pd.DataFrame(columns=columns)
    segments = model.segments if segments is None else np.asarray(segments)
    k = int(segments.max()) + 1 if len(segments) else 0
    friends = sp.csr_matrix(level.friends)
    sym = ((friends + friends.T) > 0).astype(np.int8)  # one friendship, however the file wrote it
    upper = sp.triu(sym, k=1).tocoo()
    a, b = segments[upper.row], segments[upper.col]
    ends = np.bincount(np.r_[a, b], minlength=k).astype(float)
    inside = np.bincount(a[a == b], minlength=k)
    touching = np.bincount(a, minlength=k) + np.bincount(b, minlength=k) - inside
    total_ends = ends.sum() or 1.0
    expected = ends / total_ends  # share of edge ends in the segment = chance an edge's other end is a member
    share = np.divide(2 * inside, ends, out=np.zeros(k), where=ends > 0)
    lift = np.divide(share, expected, out=np.zeros(k), where=expected > 0)
    return pd.DataFrame({"segment": np.arange(k), "edges": touching, "inside": inside, "share": share,
                         "expected": expected, "lift": lift}, columns=columns)  # fmt: skip


def user_keywords(model: InterestModel, user_id: str) -> pd.DataFrame:
    """The user's interest keywords with weights, strongest first."""
    kw = model.keywords
    return kw[kw["user_id"] == str(user_id)].sort_values("rank")[["keyword", "weight"]].reset_index(drop=True)


# ----------------------------------------------------------------------------------------------- fusion
def user_list(
    model: InterestModel,
    row: int,
    weights: dict[str, float],
    n: int,
    diversity: float = 0.0,
    similarity: str = "categories",
) -> pd.DataFrame:
    """One user's fused list with titles, categories and a one-line reason per item (MMR re-ranked
    with λ = ``diversity`` over ``similarity`` when it is above 0)."""
    recs = model.recommend(weights, n=n, rows=[row], diversity=diversity, similarity=similarity)
    items = model.dataset.items.set_index("item_id")
    recs["title"] = items["title"].reindex(recs["item_id"]).fillna("").to_numpy()
    recs["categories"] = [", ".join(c) for c in items["categories"].reindex(recs["item_id"])]
    recs["reason"] = reasons(model, row, recs)
    return recs


def reasons(model: InterestModel, row: int, recs: pd.DataFrame) -> list[str]:
    """A one-line reason per recommended item from its two biggest level contributions."""
    return user_reasons(model, UserFacts.of_row(model, row), recs)


@dataclasses.dataclass
class UserFacts:
    """What the reasons say about one user: their category mix, segment, keywords, seen items and
    recent items – a row of the model (:meth:`of_row`), or a user folded in without being one
    (:mod:`mgviz.whatif`)."""

    mix: np.ndarray
    segment: int
    keywords: list[str]
    seen: np.ndarray  # item indices
    #: ``TimeLevel.history`` of the user (item indices, ranks, days); None: looked up for ``row``.
    time_history: tuple | None = None
    row: int | None = None

    @classmethod
    def of_row(cls, model: InterestModel, row: int) -> UserFacts:
        return cls(model.category_mix[row], int(model.segments[row]),
                   user_keywords(model, str(model.user_ids[row]))["keyword"].tolist(), model.seen[row].indices,
                   row=row)  # fmt: skip


def user_reasons(model: InterestModel, facts: UserFacts, recs: pd.DataFrame) -> list[str]:
    """:func:`reasons` for the user ``facts`` describes."""
    ctx = _ReasonContext(model, facts)
    out = []
    for rec in recs.itertuples(index=False):
        contrib = {lv: float(getattr(rec, lv)) for lv in LEVELS if hasattr(rec, lv)}
        out.append(ctx.reason(str(rec.item_id), contrib))
    return out


class _ReasonContext:
    """What the reason phrases need about one user, computed once per list."""

    def __init__(self, model: InterestModel, facts: UserFacts):
        self.model = model
        self.row = facts.row
        self.item_index = model.dataset.item_index()
        self.mix = dict(zip(model.categories, facts.mix, strict=True))
        label = model.profiles[facts.segment].label if model.profiles else ""
        self.segment = label.split(" · ")[0] if label else f"segment {facts.segment}"
        self.keywords = list(facts.keywords)
        self.seen = np.asarray(facts.seen)
        self._time_history = facts.time_history
        self.texts = (
            model.dataset.items["title"].fillna("") + " " + model.dataset.items["text"].fillna("")
        ).str.lower()

    def reason(self, item_id: str, contrib: dict[str, float]) -> str:
        total = sum(contrib.values())
        if total <= 0:
            return ""
        parts = []
        for level, value in sorted(contrib.items(), key=lambda kv: -kv[1]):
            if parts and value / total < 0.2:
                break
            phrase = self.phrase(level, item_id)
            if phrase:  # None: nothing true to say for this level (an item without any text)
                parts.append(phrase)
            if len(parts) == 2:
                break
        return " · ".join(parts)

    def phrase(self, level: str, item_id: str) -> str | None:
        i = int(self.item_index.get_loc(item_id))
        if level == "meso":
            cats = self.model.dataset.items["categories"].iat[i]
            best = max(cats, key=lambda c: self.mix.get(c, 0.0)) if len(cats) else "this kind of item"
            return LEVEL_PHRASES["meso"].format(category=best)
        if level == "macro":
            return LEVEL_PHRASES["macro"].format(segment=self.segment)
        if level == "time":
            return self._time_phrase(i)
        if level == "social":
            return self._social_phrase(i)
        if level == "micro":
            similar = self._most_similar_seen(i)
            return LEVEL_PHRASES["micro"].format(similar=similar) if similar else LEVEL_PHRASES["micro_plain"]
        text = self.texts.iat[i]
        hit = next((kw for kw in self.keywords if kw.lower() in text), None)
        return LEVEL_PHRASES["semantic"].format(keyword=hit) if hit else self._semantic_plain(i)

    def _time_phrase(self, i: int) -> str:
        level = self.model.levels.get("time")
        if level is None:
            return LEVEL_PHRASES["time_plain"]
        if self._time_history is None:  # once per list, not once per item
            self._time_history = level.history(self.row)
        j = level.because(self.row, i, self._time_history)
        if j is None:
            return LEVEL_PHRASES["time_plain"]
        idx, ranks, days = self._time_history
        at = int(np.flatnonzero(idx == j)[0])
        title = str(self.model.dataset.items["title"].iat[j] or self.model.item_ids[j])
        if level.params.get("ordered_by") == "row order":
            when = "your latest choice" if ranks[at] == 1 else f"your {_ordinal(int(ranks[at]))} latest choice"
        else:
            date = pd.Timestamp(float(days[at]) * 86400.0, unit="s").strftime("%Y-%m-%d")
            when = f"your latest choice ({date})" if ranks[at] == 1 else f"which you chose on {date}"
        return LEVEL_PHRASES["time"].format(recent=title, when=when)

    def _social_phrase(self, i: int) -> str:
        level = self.model.levels.get("social")
        n = level.chosen_by(self.row, i) if level is not None and self.row is not None else 0
        if n == 0:
            return LEVEL_PHRASES["social_plain"]
        return LEVEL_PHRASES["social_one"] if n == 1 else LEVEL_PHRASES["social"].format(n=n)

    def _semantic_plain(self, i: int) -> str | None:
        """What the encoder compared for item ``i``: its description when it has one, else its title and
        categories; ``None`` when it had no text at all."""
        items, fields = self.model.dataset.items, set(self.model.config.item_text_fields)
        if "text" in fields and _has_words(items["text"].iat[i]):
            return LEVEL_PHRASES["semantic_plain"]
        named = []
        if "title" in fields and _has_words(items["title"].iat[i]):
            named.append("title")
        if "categories" in fields and len(items["categories"].iat[i]):
            named.append("categories")
        if not named:
            return None
        verb = "is" if named == ["title"] else "are"
        return LEVEL_PHRASES["semantic_fields"].format(fields=" and ".join(named), verb=verb)

    def _most_similar_seen(self, i: int) -> str | None:
        factors = self.model.als_item_factors
        if len(self.seen) == 0 or factors is None or factors.size == 0:
            return None
        seen_f = factors[self.seen]
        sims = seen_f @ factors[i] / (np.linalg.norm(seen_f, axis=1) * np.linalg.norm(factors[i]) + 1e-9)
        title = str(self.model.dataset.items["title"].iat[int(self.seen[int(np.argmax(sims))])])
        return title[:50] + ("…" if len(title) > 50 else "") if title else None


def _has_words(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


def all_lists(
    model: InterestModel, weights: dict[str, float], n: int, diversity: float = 0.0, similarity: str = "categories"
) -> pd.DataFrame:
    """Every user's fused top-``n`` with item titles (for export), re-ranked as in :func:`user_list`."""
    recs = model.recommend(weights, n=n, diversity=diversity, similarity=similarity)
    titles = model.dataset.items.set_index("item_id")["title"]
    recs.insert(3, "title", titles.reindex(recs["item_id"]).fillna("").to_numpy())
    return recs


def split_text(info: dict) -> str:
    """What the metrics were measured on, in a few words."""
    if not info:
        return "held-out test interactions"
    frac = f"{float(info.get('test_frac', 0.2)):.0%}"
    held = {
        "temporal": f"each user's latest {frac} held out",
        "random": f"a random {frac} held out (seed {info.get('seed')})",
        "loo": "each user's last interaction held out",
        "global": f"the log's latest {frac} held out",
    }.get(info.get("method"), f"{info.get('method')} split")
    users = f"{int(info['n_test_users']):,} test users" if "n_test_users" in info else "the test users"
    if info.get("evaluated_users") and info.get("users_with_test", 0) > info["evaluated_users"]:
        users = f"a sample of {int(info['evaluated_users']):,} of {int(info['users_with_test']):,} test users"
    if info.get("sampled_users"):
        users += f" (levels refit on a sample of {int(info['sampled_users']):,} of {int(info['of_users']):,} users)"
    return f"{users}, {held}"


def run_settings(
    model: InterestModel,
    weights: dict[str, float],
    n: int,
    source: str,
    diversity: float = 0.0,
    similarity: str = "categories",
) -> dict:
    """Everything needed to reproduce the current view: build config, fusion weights and re-ranking
    (MMR λ and the similarity it uses), data, versions."""
    ds = model.dataset
    return {
        "source": source,
        "config": model.config.to_dict(),
        "fusion": {"weights": weights, "n": n, "diversity": float(diversity), "similarity": similarity},
        "dataset": {
            "users": len(ds.users),
            "items": len(ds.items),
            "interactions": len(ds.interactions),
            "sources": ds.sources,
            "has_rating": ds.has_rating,
            "has_time": ds.has_time,
            "demographic_cols": ds.demographic_cols,
        },
        "segments": [{"segment": p.segment, "label": p.label, "size": p.size} for p in model.profiles],
        "timings": model.timings,
        "versions": library_versions(),
    }


# ----------------------------------------------------------------------------------------------- export files
def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM, so spreadsheets pick the encoding) of a formula-safe copy of ``frame``."""
    return safe_csv_frame(frame).to_csv(index=False).encode("utf-8-sig")


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def profiles_json(model: InterestModel, frame: pd.DataFrame) -> str:
    """Segments (full profiles) and users (categories and keywords as lists) as one JSON document."""
    users = frame.assign(
        top_categories=frame["top_categories"].str.split("|").map(lambda v: [x for x in v if x]),
        keywords=frame["keywords"].str.split("|").map(lambda v: [x for x in v if x]),
    )
    segments = [{**p.to_dict(), "name": p.name.to_dict() if p.name is not None else None} for p in model.profiles]
    doc = {"segments": segments, "users": users.to_dict(orient="records")}
    return json.dumps(doc, ensure_ascii=False, indent=1, default=str)
