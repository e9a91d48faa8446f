"""Real-time updates: fold a user's new behaviour into a built model without a rebuild.

When a user does something new, every level folds their history in from its own state
(:meth:`mgviz.levels.base.Level.fold_in`): category mix, ALS factors (the closed-form
implicit-ALS solve with item factors fixed), the EASE / item-kNN history row, profile
embedding, user vector and segment membership. Every other user's rows, and every level's
item side, stay exactly as they were. Keywords, segment labels and the user's own-text vector (a
new review's words) refresh on the next build.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from mgviz.levels.base import set_row
from mgviz.pipeline import InterestModel


def new_events(model: InterestModel, user_id: str, events: pd.DataFrame) -> pd.DataFrame:
    """``events`` (``item_id`` and optionally ``rating``, ``timestamp``, ``text``) as canonical
    interaction rows of ``user_id``; ``ValueError`` naming item ids the run does not know."""
    ds = model.dataset
    if "item_id" not in events:
        raise ValueError("new events need an item_id column")
    events = events.copy()
    events["item_id"] = events["item_id"].astype(str)
    unknown = sorted(set(events["item_id"]) - set(ds.item_ids))
    if unknown:
        raise ValueError(f"unknown item ids {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}")
    last_t = float(model.weight_ref.get("t_max", 0.0))
    return pd.DataFrame(
        {
            "user_id": str(user_id),
            "item_id": events["item_id"].to_numpy(),
            "rating": events["rating"].astype(float).to_numpy() if "rating" in events else 1.0,
            "timestamp": events["timestamp"].astype(float).to_numpy() if "timestamp" in events else last_t + 1.0,
            "text": events["text"].fillna("").astype(str).to_numpy() if "text" in events else "",
        }
    )


def update_user(model: InterestModel, user_id, events: pd.DataFrame) -> InterestModel:
    """A new model in which ``user_id``'s new ``events`` (columns ``item_id`` and optionally
    ``rating``, ``timestamp``, ``text``) are part of their history.

    Raises ``KeyError`` for an unknown user and ``ValueError`` naming unknown items.
    """
    ds = model.dataset
    u = model.user_row(user_id)
    new = new_events(model, str(ds.user_ids[u]), events)
    evidence = model.evidence(u, new)
    states = model.fold_in(evidence)
    levels = {name: level.with_user(u, states[name]) if name in states else level
              for name, level in model.levels.items()}  # fmt: skip
    vectors = np.array(model.user_vectors, copy=True)
    vectors[u] = evidence.derived["vector"]
    segments = model.segments.copy()
    segments[u] = evidence.derived["segment"]
    return replace(
        model,
        dataset=ds.with_interactions(pd.concat([ds.interactions, new], ignore_index=True)),
        levels=levels,
        user_vectors=vectors,
        segments=segments,
        seen=set_row(model.seen, u, evidence.seen),
        weighted=set_row(model.weighted, u, evidence.weighted),
    )
