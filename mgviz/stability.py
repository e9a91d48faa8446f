"""Segment stability: do the macro segments come back when K-means is run again?

K-means always returns K segments, whether the users form K groups or not. Running it again
with other seeds (other starting centroids) and on bootstrap resamples of the users (other
data from the same population) and comparing each re-run with the model's own segments tells
real segments from artefacts of one run:

* **ARI across seeds** – the adjusted Rand index between the model's segments and a re-run
  with another seed, averaged over the seeds (1 = the same partition, 0 = chance agreement);
* **ARI on bootstrap** – the same on bootstrap resamples of the users, compared on the users
  drawn;
* **Jaccard per segment** – for each of the model's segments, its best-matching cluster in a
  re-run (the largest |A ∩ B| / |A ∪ B|), averaged over every re-run (seeds and bootstrap).

The words on the segment cards follow Hennig's reading of bootstrap Jaccard (Hennig 2007,
*Cluster-wise assessment of cluster stability*, and R's ``fpc::clusterboot``): a segment that
keeps a mean Jaccard of at least :data:`STABLE` (0.75) is **stable**; between :data:`FUZZY`
(0.5) and 0.75 it is **fuzzy** – a pattern, with a boundary that moves; below 0.5 it
**dissolves** – re-runs split it up or merge it away.

The re-runs use the build's own clustering call (:func:`mgviz.levels.macro.fit_segments`, same
K-means starts) on the user vectors the build clustered, or on a seeded sample of at most
``max_users`` of them, so the cost is bounded on big logs; memory grows with users × vector
dimensions only. The re-runs use one thread: they are many small fits, which OpenMP's
spinning threads slow down many times over on a shared 2-core machine, and one thread gives
the same numbers on every machine. Everything is deterministic for a given seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from mgviz.levels.macro import K_CHART_SAMPLE, LARGE_USERS, fit_segments

#: Mean best-match Jaccard at or above which a segment is called "stable".
STABLE = 0.75
#: Mean best-match Jaccard at or above which (and below :data:`STABLE`) a segment is "fuzzy"; below, it "dissolves".
FUZZY = 0.5
#: Users re-clustered at most (a seeded sample above this many).
MAX_USERS = 20_000


def stability_word(jaccard: float | None) -> str:
    """The word for a segment's mean best-match Jaccard: stable (≥ 0.75), fuzzy (0.5–0.75), dissolves (< 0.5).

    "unknown" when there is no value (no re-run drew the segment's users).
    """
    if jaccard is None or not np.isfinite(jaccard):
        return "unknown"
    return "stable" if jaccard >= STABLE else "fuzzy" if jaccard >= FUZZY else "dissolves"


def best_match_jaccard(reference: np.ndarray, other: np.ndarray, k: int) -> np.ndarray:
    """For each reference segment ``0..k-1``, the largest Jaccard overlap with any cluster of ``other``.

    Parameters
    ----------
    reference : ndarray of int
        The model's segment of each user (values in ``0..k-1``).
    other : ndarray of int
        Another partition of the same users (any integer labels).
    k : int
        Number of reference segments.

    Returns
    -------
    ndarray of float, shape (k,)
        NaN for a segment with no user among these.
    """
    reference = np.asarray(reference, dtype=np.int64)
    _, codes = np.unique(np.asarray(other), return_inverse=True)
    m = int(codes.max()) + 1 if len(codes) else 1
    table = np.bincount(reference * m + codes, minlength=k * m).reshape(k, m).astype(np.float64)
    sizes_a, sizes_b = table.sum(axis=1), table.sum(axis=0)
    union = sizes_a[:, None] + sizes_b[None, :] - table
    jac = np.divide(table, union, out=np.zeros_like(table), where=union > 0).max(axis=1)
    jac[sizes_a == 0] = np.nan
    return jac


def _mean(values: list[float]) -> float | None:
    finite = [v for v in values if np.isfinite(v)]
    return round(float(np.mean(finite)), 4) if finite else None


def _column_means(rows: list[np.ndarray], k: int) -> list[float | None]:
    if not rows:
        return [None] * k
    stacked = np.vstack(rows)
    out = []
    for j in range(k):
        col = stacked[:, j][np.isfinite(stacked[:, j])]
        out.append(round(float(col.mean()), 4) if len(col) else None)
    return out


def _starts(n_users: int) -> int:
    """The K-means starts the build's fit used for ``n_users`` users (see :func:`fit_segments`)."""
    return 3 if n_users > LARGE_USERS else 10


def segment_stability(
    vectors: np.ndarray,
    labels: np.ndarray,
    k: int,
    seed: int = 0,
    n_seeds: int = 5,
    n_boot: int = 5,
    max_users: int = MAX_USERS,
) -> dict:
    """How much the segments ``labels`` of ``vectors`` agree with K-means re-runs.

    Parameters
    ----------
    vectors : ndarray, shape (users, dims)
        The user vectors the segments were fitted on.
    labels : ndarray of int, shape (users,)
        The model's segment of each user (``0..k-1``).
    k : int
        Number of segments.
    seed : int
        The model's seed: re-runs use seeds ``seed + 1 … seed + n_seeds``, the sample and the
        bootstrap draws a generator seeded with it.
    n_seeds, n_boot : int
        Re-runs with other seeds, and on bootstrap resamples of the users.
    max_users : int
        Above this many users, every re-run is on the same seeded sample of ``max_users`` users.

    Returns
    -------
    dict
        ``k, seed, users`` (re-clustered), ``of`` (all users), ``n_seeds, n_boot``,
        ``ari_seeds, ari_bootstrap`` (means; ``None`` without re-runs), ``jaccard`` (per
        segment, mean best-match Jaccard over every re-run; ``None`` for a segment never
        drawn), ``jaccard_seeds`` and ``jaccard_bootstrap`` (the same over each kind of re-run).
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    n = len(vectors)
    if len(labels) != n:
        raise ValueError(f"{len(labels)} segment labels for {n} user vectors")
    if n and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(f"segment labels should lie in 0..{k - 1}")
    rng = np.random.default_rng(seed)
    if n > max_users:
        rows = np.sort(rng.choice(n, max_users, replace=False))
        vectors, labels = vectors[rows], labels[rows]
    m = len(vectors)
    runs = {"seeds": [], "bootstrap": []}
    if m >= 2:
        with threadpool_limits(1):
            runs = _reruns(vectors, labels, k, seed, n_seeds, n_boot, _starts(n), rng)
    ari = {kind: [a for a, _ in rows] for kind, rows in runs.items()}
    jac = {kind: [j for _, j in rows] for kind, rows in runs.items()}
    return {
        "k": int(k),
        "seed": int(seed),
        "users": int(m),
        "of": int(n),
        "n_seeds": int(n_seeds),
        "n_boot": int(n_boot),
        "ari_seeds": _mean(ari["seeds"]),
        "ari_bootstrap": _mean(ari["bootstrap"]),
        "jaccard": _column_means(jac["seeds"] + jac["bootstrap"], k),
        "jaccard_seeds": _column_means(jac["seeds"], k),
        "jaccard_bootstrap": _column_means(jac["bootstrap"], k),
    }


def _reruns(vectors, labels, k, seed, n_seeds, n_boot, starts, rng) -> dict[str, list[tuple[float, np.ndarray]]]:
    """(ARI, per-segment best-match Jaccard) of each re-run with another seed and on each bootstrap resample."""
    out = {"seeds": [], "bootstrap": []}
    for s in range(seed + 1, seed + 1 + n_seeds):
        other, _, _ = fit_segments(vectors, k, s, n_init=starts)
        out["seeds"].append((adjusted_rand_score(labels, other), best_match_jaccard(labels, other, k)))
    m = len(vectors)
    for _ in range(n_boot):
        draw = rng.integers(0, m, m)
        other, _, _ = fit_segments(vectors[draw], k, seed, n_init=starts)
        users, first = np.unique(draw, return_index=True)  # each drawn user once, with the cluster it got
        ref, got = labels[users], other[first]
        out["bootstrap"].append((adjusted_rand_score(ref, got), best_match_jaccard(ref, got, k)))
    return out


def k_stability(
    vectors: np.ndarray, ks, seed: int = 0, n_seeds: int = 3, sample_size: int = K_CHART_SAMPLE
) -> pd.DataFrame:
    """Mean ARI across seeds for each K, for the K chart. Columns ``k, ari_seeds``.

    Scored like :func:`mgviz.levels.macro.score_k_range` scores silhouette – on a seeded sample
    of at most ``sample_size`` users and a 32-d PCA projection, so it is a guide next to it –
    but with the build's K-means starts: for each K the fit with ``seed`` is compared with fits
    with seeds ``seed + 1 … seed + n_seeds``.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    n_all = len(vectors)
    if n_all > sample_size:
        pick = np.random.default_rng(seed).choice(n_all, sample_size, replace=False)
        vectors = vectors[np.sort(pick)]
    n = len(vectors)
    if vectors.shape[1] > 32 and n > 32:
        from sklearn.decomposition import PCA

        vectors = PCA(n_components=32, random_state=seed).fit_transform(vectors)
    rows = []
    with threadpool_limits(1):
        for k in ks:
            k = int(k)
            if k < 2 or k >= n:
                continue
            reference, _, _ = fit_segments(vectors, k, seed, n_init=_starts(n_all))
            scores = [adjusted_rand_score(reference, fit_segments(vectors, k, s, n_init=_starts(n_all))[0])
                      for s in range(seed + 1, seed + 1 + n_seeds)]  # fmt: skip
            rows.append({"k": k, "ari_seeds": round(float(np.mean(scores)), 4)})
    return pd.DataFrame(rows, columns=["k", "ari_seeds"])
