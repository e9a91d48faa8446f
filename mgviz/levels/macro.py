"""Macro level: users grouped into interest segments.

A user vector joins weighted blocks – text interest (from the encoder),
category mix, ALS factors, demographics – each scaled to unit length and then
by the square root of its weight, so squared distances are a weighted sum of
the blocks' distances. K-means (minimising within-segment squared distance)
finds the segments; each is labelled from its members' categories and words.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
import sklearn
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from mgviz import labels
from mgviz.config import DEFAULT_BLOCK_WEIGHTS
from mgviz.levels.base import FactorLevel, UserEvidence
from mgviz.levels.common import l2_normalise

#: Above this many users K-means takes 3 starts instead of 10, and the K chart a sample.
LARGE_USERS = 50_000
K_CHART_SAMPLE = 5_000


def user_vectors(blocks: dict[str, np.ndarray | None], block_weights: dict[str, float] | None = None) -> np.ndarray:
    """Concatenate the non-empty blocks, each L2-normalised per user and scaled by sqrt(weight)."""
    block_weights = {**DEFAULT_BLOCK_WEIGHTS, **(block_weights or {})}
    parts = []
    for name, block in blocks.items():
        w = block_weights.get(name, 0.0)
        if block is None or block.size == 0 or w <= 0:
            continue
        parts.append(l2_normalise(block) * np.float32(np.sqrt(w)))
    if not parts:
        raise ValueError("no user-vector block has data and a weight > 0")
    return np.hstack(parts).astype(np.float32)


def interest_blocks(
    profile: np.ndarray, mix: np.ndarray, als: np.ndarray | None, demographics: np.ndarray | None
) -> dict[str, np.ndarray | None]:
    """The named blocks of a user vector, in the order :func:`user_vectors` joins them.

    The category mix enters as its square root (Hellinger: distances between mixes as
    distances between sqrt-probabilities).
    """
    return {"text": profile, "categories": np.sqrt(mix), "als": als, "demographics": demographics}


def demographic_block(users: pd.DataFrame, cols: list[str]) -> np.ndarray | None:
    """One-hot categorical / standardised numeric demographics (None when there are none)."""
    if not cols:
        return None
    from mgviz.levels.meso import user_features
    from mgviz.schema import Dataset

    feats, _ = user_features(Dataset(pd.DataFrame(), pd.DataFrame(), users, demographic_cols=cols), None)
    return feats if feats.shape[1] else None


def fit_segments(
    vectors: np.ndarray, k: int, seed: int = 0, n_init: int = 10, notes: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """K-means with ``k`` segments. Returns (segment per user, centroids, inertia).

    When the users have fewer distinct vectors than ``k`` (tiny or repetitive logs) K is lowered
    to that number and ``notes`` (if given) gets a sentence saying so.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    n = len(vectors)
    if k < 1 or k > n:
        raise ValueError(f"k={k} segments needs 1 <= k <= number of users ({n})")
    if n > LARGE_USERS:  # each start costs a pass over every user; three starts agree on big logs
        n_init = min(n_init, 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        km = KMeans(n_clusters=k, random_state=seed, n_init=n_init).fit(vectors)
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        distinct = len(np.unique(np.round(vectors, 6), axis=0))
        if 1 <= distinct < k:
            if notes is not None:
                notes.append(f"the users have only {distinct} distinct interest profiles, so K = {distinct} "
                             f"segments instead of {k}")  # fmt: skip
            return fit_segments(vectors, distinct, seed, n_init, notes)
    return km.labels_.astype(np.int32), km.cluster_centers_.astype(np.float32), float(km.inertia_)


def score_k_range(
    vectors: np.ndarray, ks=range(2, 13), seed: int = 0, sample_size: int = 1000, n_init: int = 2
) -> pd.DataFrame:
    """Silhouette and inertia for each K, to help choose it. Columns ``k, inertia, silhouette``.

    Each K gets ``n_init`` K-means starts (fewer than the final fit's 10: this is a guide).
    """
    rows = []
    if len(vectors) > K_CHART_SAMPLE:  # a guide: a seeded sample of users answers it as well
        pick = np.random.default_rng(seed).choice(len(vectors), K_CHART_SAMPLE, replace=False)
        vectors = vectors[np.sort(pick)]
    n = len(vectors)
    # scored on a 32-d PCA projection: the chart is a guide, and this keeps it to about a second
    if vectors.shape[1] > 32 and n > 32:
        from sklearn.decomposition import PCA

        vectors = PCA(n_components=32, random_state=seed).fit_transform(vectors)
    for k in ks:
        if k < 2 or k >= n:
            continue
        labels, _, inertia = fit_segments(vectors, k, seed, n_init=n_init)
        if not 2 <= len(np.unique(labels)) < n:
            continue  # repeated user vectors: K-means found fewer segments and silhouette is undefined
        with sklearn.config_context(working_memory=16):  # pairwise distances in 16 MB chunks
            sil = silhouette_score(vectors, labels, sample_size=min(sample_size, n), random_state=seed)
        rows.append({"k": k, "inertia": inertia, "silhouette": float(sil)})
    return pd.DataFrame(rows, columns=["k", "inertia", "silhouette"])


def _squared_distances(vectors: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """users × segments squared distances, without a users × segments × dims temporary."""
    v = np.asarray(vectors, dtype=np.float32)
    c = np.asarray(centroids, dtype=np.float32)
    d2 = (v * v).sum(axis=1)[:, None] - 2.0 * (v @ c.T) + (c * c).sum(axis=1)[None, :]
    return np.maximum(d2, 0.0)


def membership_temperature(vectors: np.ndarray, centroids: np.ndarray) -> float:
    """τ of :func:`soft_membership`: the mean squared distance of users to their nearest centroid."""
    return max(float(_squared_distances(vectors, centroids).min(axis=1).mean()), 1e-6)


def soft_membership(vectors: np.ndarray, centroids: np.ndarray, tau: float | None = None) -> np.ndarray:
    """P(segment | user) ∝ exp(-d² / τ), τ = mean squared distance to the nearest centroid."""
    d2 = _squared_distances(vectors, centroids)
    if tau is None:
        tau = max(float(d2.min(axis=1).mean()), 1e-6)
    logits = -(d2 - d2.min(axis=1, keepdims=True)) / tau
    p = np.exp(logits)
    return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)


def segment_item_distribution(weighted: sp.csr_matrix, membership: np.ndarray, smoothing: float = 0.5) -> np.ndarray:
    """P(i | segment): weighted popularity of each item among a segment's (soft) members."""
    counts = np.asarray((sp.csr_matrix(membership.T) @ weighted).todense(), dtype=np.float64) + smoothing
    return (counts / counts.sum(axis=1, keepdims=True)).astype(np.float32)


class MacroLevel(FactorLevel):
    """P_macro(i|u) = Σ_s P(s|u) P(i|s): what the user's segment likes.

    State: the soft membership of every user (user side), P(i | segment) (item side), the
    segment centroids, the membership temperature τ and the user-vector block weights (to
    fold a user in: their vector, then their membership).
    """

    kind = "macro"
    item_arrays = ("item_side", "centroids")

    @classmethod
    def fit(cls, vectors, centroids, weighted, block_weights=None, smoothing: float = 0.5, name="macro"):
        tau = membership_temperature(vectors, centroids)
        membership = soft_membership(vectors, centroids, tau)
        seg_items = segment_item_distribution(weighted, membership, smoothing)
        params = {"tau": tau, "block_weights": {**DEFAULT_BLOCK_WEIGHTS, **(block_weights or {})}}
        return cls(name, weighted.shape[1], params, user_side=membership, item_side=np.ascontiguousarray(seg_items.T),
                   centroids=np.asarray(centroids, np.float32))  # fmt: skip

    @property
    def membership(self) -> np.ndarray:
        return self.user_side

    def fold_in(self, evidence: UserEvidence) -> dict:
        d = evidence.derived
        blocks = interest_blocks(
            np.atleast_2d(d["profile"]), np.atleast_2d(d["mix"]),
            np.atleast_2d(d["als"]) if "als" in d else None,
            None if evidence.demographics is None else np.atleast_2d(evidence.demographics),
        )  # fmt: skip
        vector = user_vectors(blocks, self.params["block_weights"])
        if vector.shape[1] != self.centroids.shape[1]:
            raise ValueError(f"user vector has {vector.shape[1]} dims, the segments {self.centroids.shape[1]}")
        membership = soft_membership(vector, self.centroids, self.params["tau"])[0]
        d["vector"], d["segment"] = vector[0], int(np.argmax(membership))
        return {"user_side": membership}


@dataclass
class SegmentProfile:
    segment: int
    label: str
    size: int
    share: float
    top_categories: list[tuple[str, float]]
    keywords: list[tuple[str, float]]
    top_items: list[tuple[str, str, int]]
    demographics: dict
    #: The label's categories and keywords with their lift (:class:`mgviz.labels.LabelTerm`).
    label_terms: list[labels.LabelTerm] = field(default_factory=list)
    #: A name and description written by a language model (:mod:`mgviz.naming`), when asked for.
    name: SegmentName | None = None

    @property
    def display_name(self) -> str:
        """The model-written name when there is one, otherwise the keyword label."""
        return self.name.name if self.name is not None and self.name.ok else self.label

    def to_dict(self) -> dict:
        return {
            "segment": self.segment,
            "label": self.label,
            "size": self.size,
            "share": self.share,
            "top_categories": [[c, w] for c, w in self.top_categories],
            "keywords": [[k, w] for k, w in self.keywords],
            "top_items": [list(t) for t in self.top_items],
            "demographics": self.demographics,
            "label_terms": [t.to_dict() for t in self.label_terms],
        }

    @classmethod
    def from_dict(cls, d: dict) -> SegmentProfile:
        return cls(
            segment=int(d["segment"]),
            label=d["label"],
            size=int(d["size"]),
            share=float(d["share"]),
            top_categories=[(c, float(w)) for c, w in d["top_categories"]],
            keywords=[(k, float(w)) for k, w in d["keywords"]],
            top_items=[(str(a), str(b), int(c)) for a, b, c in d["top_items"]],
            demographics=d["demographics"],
            label_terms=[labels.LabelTerm.from_dict(t) for t in d.get("label_terms", [])],  # older runs: none
        )


@dataclass
class SegmentName:
    """A segment's name and description written by a language model, or why the keyword label stays.

    ``ok`` is False when the model's answer was refused (``reason`` says why); ``model`` names the
    backend and model that wrote it ("local SmolLM2-135M-Instruct", "openai gpt-4o-mini @ http://…").
    """

    name: str
    description: str
    model: str
    ok: bool = True
    reason: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> SegmentName:
        return cls(str(d["name"]), str(d["description"]), str(d["model"]), bool(d.get("ok", True)),
                   str(d.get("reason", "")), float(d.get("seconds", 0.0)))  # fmt: skip


def _demographics_summary(users: pd.DataFrame, cols: list[str]) -> dict:
    out = {}
    for col in cols:
        values = users[col]
        numeric = pd.to_numeric(values, errors="coerce")
        if numeric.notna().mean() > 0.9:
            out[col] = {"mean": round(float(numeric.mean()), 2), "median": float(numeric.median())}
        else:
            shares = values.astype("string").fillna("?").value_counts(normalize=True).head(3)
            out[col] = {str(k): round(float(v), 3) for k, v in shares.items()}
    return out


def profile_segments(
    segments: np.ndarray,
    k: int,
    mix: np.ndarray,
    categories: list[str],
    term_counts: sp.csr_matrix,
    vocabulary: np.ndarray,
    weighted: sp.csr_matrix,
    items: pd.DataFrame,
    users: pd.DataFrame,
    demographic_cols: list[str],
    n_top: int = 5,
) -> list[SegmentProfile]:
    """Size, top categories (by lift over the population), class-TF-IDF keywords, top items,
    demographics and an automatic label for each segment."""
    population = mix.mean(axis=0)
    onehot = sp.csr_matrix(
        (np.ones(len(segments), np.float32), (segments, np.arange(len(segments)))), shape=(k, len(segments))
    )
    kw_score, kw_lift, kw_share = labels.keyword_scores(onehot @ term_counts) if term_counts.shape[1] else (None,) * 3
    seg_items = np.asarray((onehot @ (weighted > 0).astype(np.float32)).todense())
    item_pop = seg_items.sum(axis=0)
    profiles, category_candidates, keyword_candidates = [], [], []
    n = len(segments)
    for s in range(k):
        members = segments == s
        size = int(members.sum())
        seg_mix = mix[members].mean(axis=0) if size else population
        # the card's categories: big *and* over-represented (share × sqrt(lift)); the label's: lift (labels.py)
        lift = seg_mix / np.maximum(population, 1e-9)
        order = np.argsort(-(seg_mix * np.sqrt(lift)), kind="stable")[:n_top]
        top_cats = [(categories[j], round(float(seg_mix[j]), 4)) for j in order]
        category_candidates.append(labels.category_terms(seg_mix, population, categories))
        terms = [] if kw_score is None else labels.keyword_terms(kw_score[s], kw_lift[s], kw_share[s], vocabulary, 30)
        keyword_candidates.append(terms)
        words = [(t.term, t.score) for t in terms[:8]]
        # top items by count within segment, discounted by global popularity (lift), min support 3
        counts = seg_items[s]
        score = counts * np.log1p(counts / np.maximum(item_pop, 1) * k)
        top_idx = [i for i in np.argsort(-score, kind="stable")[: n_top * 2] if counts[i] >= 1][:n_top]
        top_items = [(str(items["item_id"].iat[i]), str(items["title"].iat[i]), int(counts[i])) for i in top_idx]
        profiles.append(
            SegmentProfile(
                segment=s,
                label="",
                size=size,
                share=round(size / max(n, 1), 4),
                top_categories=top_cats,
                keywords=words,
                top_items=top_items,
                demographics=_demographics_summary(users.loc[members], demographic_cols),
            )
        )
    for profile, (label, terms) in zip(profiles, labels.choose_labels(category_candidates, keyword_candidates),
                                       strict=True):  # fmt: skip
        profile.label, profile.label_terms = label, terms
    return profiles
