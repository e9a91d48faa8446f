"""Real-time updates: fold a user's new behaviour into a built model without a rebuild.

When a user does something new, their category mix, ALS factors (the closed-form
implicit-ALS solve with item factors fixed), EASE row, profile embedding, segment
membership and all four level-score rows are recomputed for that user alone; every
other user's rows stay exactly as they were. Keywords and segment labels refresh
on the next full build.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mgviz.fusion import normalise_per_user
from mgviz.levels import macro, meso, semantic
from mgviz.levels.common import weighted_matrix
from mgviz.levels.micro import ease_item_weights
from mgviz.pipeline import InterestModel


def _als_fold_in(weighted_row: np.ndarray, item_factors: np.ndarray, alpha: float, reg: float) -> np.ndarray:
    """x_u = (YᵀY + Yᵀ(C_u − I)Y + λI)⁻¹ YᵀC_u p_u with C_u = 1 + α·w (Hu, Koren & Volinsky)."""
    y = item_factors.astype(np.float64)
    nz = np.flatnonzero(weighted_row)
    conf = alpha * weighted_row[nz]
    a = y.T @ y + (y[nz].T * conf) @ y[nz] + reg * np.eye(y.shape[1])
    b = (y[nz].T * (1.0 + conf)).sum(axis=1)
    return np.linalg.solve(a, b).astype(np.float32)


def _ease_row(model: InterestModel, binary_row: np.ndarray) -> np.ndarray:
    b = getattr(model, "_ease_b", None)
    if b is None:  # computed once per model, then every update is a row × matrix product
        b = ease_item_weights(model.seen, model.config.ease_l2)
        object.__setattr__(model, "_ease_b", b)
    return (binary_row @ b).astype(np.float32)


def update_user(model: InterestModel, user_id, events: pd.DataFrame) -> InterestModel:
    """A new model in which ``user_id``'s new ``events`` (columns ``item_id`` and optionally
    ``rating``, ``timestamp``, ``text``) are part of their history.

    Raises ``KeyError`` for an unknown user and ``ValueError`` naming unknown items.
    """
    ds = model.dataset
    u = model.user_row(user_id)
    events = events.copy()
    events["item_id"] = events["item_id"].astype(str)
    unknown = sorted(set(events["item_id"]) - set(ds.item_ids))
    if unknown:
        raise ValueError(f"unknown item ids {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}")
    last_t = float(ds.interactions["timestamp"].max()) if len(ds.interactions) else 0.0
    new = pd.DataFrame(
        {
            "user_id": str(ds.user_ids[u]),
            "item_id": events["item_id"].to_numpy(),
            "rating": events["rating"].astype(float).to_numpy() if "rating" in events else 1.0,
            "timestamp": events["timestamp"].astype(float).to_numpy() if "timestamp" in events else last_t + 1.0,
            "text": events["text"].fillna("").astype(str).to_numpy() if "text" in events else "",
        }
    )
    dataset = ds.with_interactions(pd.concat([ds.interactions, new], ignore_index=True))
    cfg = model.config
    weighted = weighted_matrix(dataset, cfg.half_life_days)
    w_row = np.asarray(weighted[u].todense()).ravel()

    mix = model.category_mix.copy()
    mix[u] = meso.category_mix(weighted, model.item_categories)[u]
    als_u = model.als_user_factors.copy()
    als_u[u] = _als_fold_in(w_row, model.als_item_factors, cfg.alpha, cfg.regularization)

    seen = (dataset.matrix() > 0).astype(np.float32).tocsr()
    micro_raw = als_u[u] @ model.als_item_factors.T
    if cfg.micro_model != "als":
        ease = _ease_row(model, np.asarray(seen[u].todense()).ravel())
        micro_raw = (
            ease
            if cfg.micro_model == "ease"
            else 0.5 * (normalise_per_user(micro_raw[None])[0] + normalise_per_user(ease[None])[0])
        )

    consumed = semantic.consumption_embedding(sp.csr_matrix(w_row), model.item_embeddings)
    profile = semantic.profile_embedding(model.user_text_embeddings[u : u + 1], consumed)

    demo = macro.demographic_block(ds.users, ds.demographic_cols)
    blocks = macro.interest_blocks(
        profile, mix[u : u + 1], als_u[u : u + 1], demo[u : u + 1] if demo is not None else None
    )
    vectors = model.user_vectors.copy()
    vectors[u] = macro.user_vectors(blocks, cfg.block_weights)[0]
    k = len(model.profiles)
    centroids = np.stack([model.user_vectors[model.segments == s].mean(axis=0) for s in range(k)])
    membership = model.membership.copy()
    membership[u] = macro.soft_membership(vectors, centroids)[u]
    segments = model.segments.copy()
    segments[u] = int(np.argmax(membership[u]))
    # other users' evidence as the build saw it, so their rows and the shared tables stay put
    weighted_before = weighted_matrix(ds, cfg.half_life_days)
    seg_items = macro.segment_item_distribution(weighted_before, model.membership)
    popularity = np.asarray(weighted_before.sum(axis=0)).ravel()
    raw = {
        "macro": membership[u : u + 1] @ seg_items,
        "meso": meso.meso_scores(mix[u : u + 1], popularity, model.item_categories),
        "micro": micro_raw[None, :],
        "semantic": semantic.semantic_scores(profile, model.item_embeddings),
    }
    level_scores = {}
    for level, arr in model.level_scores.items():
        arr = arr.copy()
        arr[u] = normalise_per_user(np.asarray(raw[level], np.float32))[0]
        level_scores[level] = arr
    return replace(
        model,
        dataset=dataset,
        category_mix=mix,
        als_user_factors=als_u,
        user_vectors=vectors,
        membership=membership,
        segments=segments,
        level_scores=level_scores,
        seen=seen,
    )
