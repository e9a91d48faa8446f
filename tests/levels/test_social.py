"""The social level on graphs whose answers are known by hand, and how fusion treats users without friends.
(The behavioural suite every level passes is test_conformance.py, which includes the social level.)"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers_app import HashEncoder, tiny_config, tiny_dataset  # noqa: E402

from mgviz.levels.base import Level, UserEvidence  # noqa: E402
from mgviz.levels.social import SocialLevel, friend_matrix  # noqa: E402
from mgviz.pipeline import build  # noqa: E402

# users a=0, b=1, c=2, d=3: a – b – c a chain, d alone; 3 items
WEIGHTED = sp.csr_matrix(np.array([[1, 0, 0], [1, 3, 0], [0, 0, 2], [0, 1, 0]], np.float32))


def _chain(decay: float) -> SocialLevel:
    friends = friend_matrix([0, 1], [1, 2], [1.0, 1.0], 4, directed=False)
    return SocialLevel.fit(friends, WEIGHTED, {"decay": decay})


def test_direct_friends_only_known_scores():
    level = _chain(0.0)
    # a's only friend is b, whose interest is 1/4, 3/4, 0: normalised 1/3, 1, 0
    np.testing.assert_allclose(level.score([0])[0], [1 / 3, 1.0, 0.0], rtol=1e-6)
    # b's friends a (1, 0, 0) and c (0, 0, 1), half each: items 0 and 2 tie at the top, item 1 at 0
    np.testing.assert_allclose(level.score([1])[0], [1.0, 0.0, 1.0], rtol=1e-6)
    assert level.covers([0, 1, 2, 3]).tolist() == [True, True, True, False]
    assert not level.score([3]).any()  # no friends: nothing to say
    assert level.chosen_by(1, 0) == 1 and level.chosen_by(1, 1) == 0 and level.chosen_by(0, 1) == 1


def test_friends_of_friends_count_by_the_decay():
    level = _chain(0.5)
    # a: b fully (1), c through b by 0.5 × 1/2; a itself (back through b) is left out: b 0.8, c 0.2
    np.testing.assert_allclose(level.adjacency[0].toarray()[0], [0.0, 0.8, 0.2, 0.0], atol=1e-6)
    raw = level.raw([0])[0]  # 0.8 × (1/4, 3/4, 0) + 0.2 × (0, 0, 1)
    np.testing.assert_allclose(raw, [0.2, 0.6, 0.2], rtol=1e-6)


def test_directed_edges_go_one_way():
    friends = friend_matrix([0], [1], [1.0], 4, directed=True)  # a follows b
    level = SocialLevel.fit(friends, WEIGHTED, {"decay": 0.0})
    assert level.covers([0, 1]).tolist() == [True, False]


def test_fold_in_of_a_new_user_with_friends_and_save_load(tmp_path):
    level = _chain(0.0)
    ev = UserEvidence(
        sp.csr_matrix((1, 3)), sp.csr_matrix((1, 3)), np.zeros(2), friends=sp.csr_matrix([[0, 0, 1.0, 0]])
    )
    state = level.fold_in(ev)
    np.testing.assert_allclose(level.score_state(state)[0], [0, 0, 1.0])  # c's only item
    level.save(tmp_path / "social")
    again = Level.load(tmp_path / "social")
    np.testing.assert_array_equal(again.score([0, 1, 2, 3]), level.score([0, 1, 2, 3]))
    assert again.params["edges"] == 4 and again.params["users_with_friends"] == 3


@pytest.fixture(scope="module")
def model():
    return build(tiny_dataset(friends=True), tiny_config(), HashEncoder())


def test_with_user_changes_that_users_friends_only(model):
    level = model.levels["social"]
    ev = model.evidence(4)
    ev.friends = sp.csr_matrix(level.friends[9])  # user 4 now has user 9's friends (user 9 has none)
    state = level.fold_in(ev)
    changed = level.with_user(4, state)
    assert not changed.covers([4])[0] and level.covers([4])[0]
    others = np.setdiff1d(np.arange(level.n_users), [4])
    np.testing.assert_array_equal(changed.score(others), level.score(others))


def test_users_without_friends_get_the_list_of_the_other_levels(model):
    social = model.levels["social"]
    alone = np.flatnonzero(~social.covers(np.arange(social.n_users)))
    assert len(alone) and alone.tolist() == [u for u in range(len(model.user_ids)) if u % 10 == 9]
    weights = {"macro": 0.1, "meso": 0.1, "micro": 0.4, "semantic": 0.1, "time": 0.3}
    without = model.recommend(weights, n=10, rows=alone)
    with_social = model.recommend({**weights, "social": 0.5}, n=10, rows=alone)
    assert with_social["item_id"].tolist() == without["item_id"].tolist()
    # not diluted: the same scores, and the contributions (social 0) still add up to them
    np.testing.assert_allclose(with_social["score"], without["score"], atol=1e-5)
    assert (with_social["social"] == 0).all()
    parts = with_social[["macro", "meso", "micro", "semantic", "time", "social"]].sum(axis=1)
    np.testing.assert_allclose(parts, with_social["score"], atol=1e-5)
    # users with friends: the social level takes its share, and the contributions still add up
    friends = model.recommend({**weights, "social": 0.5}, n=10, rows=[0, 1])
    assert (friends["social"] > 0).any()
    np.testing.assert_allclose(friends[["macro", "meso", "micro", "semantic", "time", "social"]].sum(axis=1),
                               friends["score"], atol=1e-5)  # fmt: skip


def test_no_friends_file_no_social_level_and_no_social_column():
    model = build(tiny_dataset(), tiny_config(), HashEncoder())
    assert "social" not in model.levels
    recs = model.recommend({"micro": 1.0, "social": 1.0}, n=5, rows=[0])
    assert "social" not in recs.columns and len(recs) == 5
    assert model.dataset.friends is None
