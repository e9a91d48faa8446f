"""What every level shares: how much one interaction says about a user's interest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mgviz.schema import Dataset

DAY = 86400.0


def weight_reference(dataset: Dataset) -> dict:
    """What interaction weights are relative to: the log's top rating and newest timestamp."""
    inter = dataset.interactions
    ref = {"max_rating": 1.0, "t_max": 0.0}
    if len(inter) and dataset.has_rating:
        r = inter["rating"].to_numpy(np.float64)
        ref["max_rating"] = float(np.nanmax(r)) if np.isfinite(r).any() else 1.0
    if len(inter) and dataset.has_time:
        ref["t_max"] = float(np.nanmax(inter["timestamp"].to_numpy(np.float64)))
    return ref


def interaction_weights(
    dataset: Dataset, half_life_days: float | None = 180.0, reference: dict | None = None, interactions=None
) -> np.ndarray:
    """Per-interaction weight = rating weight × recency weight.

    Rating weight is ``rating / max_rating`` when the log has ratings (a 1-star
    view still says something), else 1. Recency weight halves every
    ``half_life_days`` before the newest interaction of the log, so that the
    profile leans to what the user likes now; no decay when the log has no time.
    ``reference`` (:func:`weight_reference`) fixes the top rating and the newest time,
    so one user's new events are weighted as the build weighted everyone's.
    """
    inter = dataset.interactions if interactions is None else interactions
    ref = reference or weight_reference(dataset)
    w = np.ones(len(inter), dtype=np.float64)
    if len(inter) == 0:
        return w.astype(np.float32)
    if dataset.has_rating and ref["max_rating"] > 0:
        w *= np.clip(inter["rating"].to_numpy(np.float64) / ref["max_rating"], 0.05, None)
    if dataset.has_time and half_life_days:
        age_days = np.maximum(ref["t_max"] - inter["timestamp"].to_numpy(np.float64), 0.0) / DAY
        w *= np.power(0.5, age_days / half_life_days)
    return w.astype(np.float32)


def weighted_matrix(dataset: Dataset, half_life_days: float | None = 180.0) -> sp.csr_matrix:
    """Users × items matrix of summed interaction weights."""
    u, i = dataset.codes()
    w = interaction_weights(dataset, half_life_days)
    m = sp.csr_matrix((w, (u, i)), shape=(len(dataset.users), len(dataset.items)), dtype=np.float32)
    m.sum_duplicates()
    return m


def row_normalise(m):
    """Rows scaled to sum 1 (empty rows stay 0); works for dense and sparse."""
    if sp.issparse(m):
        sums = np.asarray(m.sum(axis=1)).ravel()
        inv = np.divide(1.0, sums, out=np.zeros_like(sums, dtype=np.float64), where=sums > 0)
        return sp.diags(inv.astype(np.float32)) @ m
    m = np.asarray(m, dtype=np.float32)
    sums = m.sum(axis=1, keepdims=True)
    return np.divide(m, sums, out=np.zeros_like(m), where=sums > 0)


def l2_normalise(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)


def user_text(dataset: Dataset) -> pd.Series:
    """Each user's own words: profile text plus the reviews they wrote, indexed like ``users``."""
    reviews = (
        dataset.interactions.loc[dataset.interactions["text"].str.len() > 0]
        .groupby("user_id", sort=False)["text"]
        .agg(" ".join)
    )
    own = dataset.users.set_index("user_id")["text"].fillna("")
    joined = (own + " " + reviews.reindex(own.index).fillna("")).str.strip()
    return joined.reset_index(drop=True)


def item_text(dataset: Dataset) -> pd.Series:
    """Title, categories and description of each item, one string, indexed like ``items``."""
    items = dataset.items
    cats = items["categories"].map(lambda c: ", ".join(c) if len(c) else "")
    parts = items["title"].fillna("") + ". " + cats + ". " + items["text"].fillna("")
    return parts.str.strip(". ").reset_index(drop=True)
