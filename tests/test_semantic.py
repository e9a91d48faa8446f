"""The semantic level matches users to items by text, by cosine or by the learned σ(W·[e(u), e(i), e(u)⊙e(i)])."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mgviz.levels.semantic import SemanticLevel, profile_embedding


def semantic_scores(users, items):
    return SemanticLevel.fit(users, items).raw(np.arange(len(users)))


def learned_scores(users, items, seen, seed=0):
    level = SemanticLevel.fit(users, items, "learned", seen, seed=seed)
    assert level.params["model"] == "learned"
    return level.raw(np.arange(len(users)))


def _toy(seed=0):
    """Two topics: users of topic t consume items of topic t; embeddings carry the topic."""
    rng = np.random.default_rng(seed)
    topics = np.eye(2, 8)
    item_topic = np.arange(40) % 2
    items = topics[item_topic] + 0.3 * rng.normal(size=(40, 8))
    user_topic = np.arange(30) % 2
    users = topics[user_topic] + 0.3 * rng.normal(size=(30, 8))
    rows, cols = [], []
    for u in range(30):
        same = np.flatnonzero(item_topic == user_topic[u])
        for i in rng.choice(same, 6, replace=False):
            rows.append(u)
            cols.append(i)
    seen = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(30, 40))
    return users.astype(np.float32), items.astype(np.float32), seen, user_topic, item_topic


def test_cosine_scores_prefer_items_on_the_users_topic():
    users, items, _, ut, it = _toy()
    s = semantic_scores(users, items)
    same = s[ut[:, None] == it[None, :]].mean()
    other = s[ut[:, None] != it[None, :]].mean()
    assert same > other + 0.3


def test_learned_scores_are_personal_probabilities():
    users, items, seen, ut, it = _toy()
    s = learned_scores(users, items, seen, seed=0)
    assert s.shape == (30, 40) and (s > 0).all() and (s < 1).all()
    same = s[ut[:, None] == it[None, :]].mean()
    other = s[ut[:, None] != it[None, :]].mean()
    assert same > other  # learned from behaviour, not told the topics
    # personal: the two topics' users rank items differently
    assert np.argmax(s[ut == 0].mean(axis=0)) != np.argmax(s[ut == 1].mean(axis=0))
    np.testing.assert_array_equal(s, learned_scores(users, items, seen, seed=0))


def test_profile_blends_own_text_only_when_present():
    own = np.array([[1.0, 0.0], [0.0, 0.0]], np.float32)
    consumed = np.array([[0.0, 1.0], [0.0, 1.0]], np.float32)
    p = profile_embedding(own, consumed)
    np.testing.assert_allclose(p[1], [0.0, 1.0])  # no own text: consumption alone
    assert p[0, 0] > 0 and p[0, 1] > 0
