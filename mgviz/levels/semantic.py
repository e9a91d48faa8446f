"""Semantic level: how close an item's text is to the user's own text / profile.

Both sides come from the same encoder. A user's profile embedding is their own
words (profile text, reviews) when they wrote any, blended with the centre of
what they consumed; a user with no words is matched on consumption alone.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mgviz.levels.common import l2_normalise, row_normalise


def consumption_embedding(weighted: sp.csr_matrix, item_embeddings: np.ndarray) -> np.ndarray:
    """Behaviour-weighted mean of consumed items' embeddings, L2-normalised."""
    return l2_normalise(np.asarray(row_normalise(weighted) @ item_embeddings))


def profile_embedding(
    own_text_embeddings: np.ndarray, consumed_embeddings: np.ndarray, own_weight: float = 0.5
) -> np.ndarray:
    """Blend of the user's own-text embedding and consumption embedding (whichever exist)."""
    has_own = np.abs(own_text_embeddings).sum(axis=1) > 0
    w = np.where(has_own, own_weight, 0.0).astype(np.float32)[:, None]
    return l2_normalise(w * own_text_embeddings + (1 - w) * consumed_embeddings)


def semantic_scores(profiles: np.ndarray, item_embeddings: np.ndarray) -> np.ndarray:
    """Cosine similarity of every user profile to every item."""
    return (l2_normalise(profiles) @ l2_normalise(item_embeddings).T).astype(np.float32)
