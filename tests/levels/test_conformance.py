"""One behavioural suite every level passes (as LensKit's ScorerTests and implicit's recommender
tests do): scores in [0, 1] per user, batch = single, candidates = columns of the full row, top-k
excludes seen items and follows the scores, save/load round trip, fold-in from the level's own
state, and no users × items array in the state. Plus small cases with answers known by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers_app import HashEncoder, tiny_config, tiny_dataset  # noqa: E402

from mgviz.evaluation.baselines import baseline_levels  # noqa: E402
from mgviz.levels.base import FactorLevel, Level, UserEvidence  # noqa: E402
from mgviz.levels.meso import MesoLevel  # noqa: E402
from mgviz.levels.micro import ItemItemLevel  # noqa: E402
from mgviz.levels.time import TimeLevel  # noqa: E402
from mgviz.pipeline import build  # noqa: E402

VARIANTS = {
    "default": {},  # ALS + EASE, cosine semantic
    "knn": {"ease_max_items": 10},  # the catalogue is 'too big' for EASE: ALS + item-kNN
    "learned": {"semantic_model": "learned", "micro_model": "ease"},
}


@pytest.fixture(scope="module", params=list(VARIANTS))
def model(request):
    # with friends: every variant has a social level too (the other levels do not read the edges)
    return build(tiny_dataset(friends=True), tiny_config(**VARIANTS[request.param]), HashEncoder())


LEVEL_NAMES = ("macro", "meso", "micro", "semantic", "time", "social", "baseline:popular", "baseline:ease",
               "baseline:itemknn")  # fmt: skip


def _level(model, name: str) -> Level:
    if name.startswith("baseline:"):
        return baseline_levels(model.seen)[name.split(":")[1]]
    return model.levels[name]


@pytest.fixture(params=LEVEL_NAMES)
def level(request, model):
    return _level(model, request.param)


def test_scores_are_per_user_normalised(level, model):
    scores = level.score(np.arange(level.n_users))
    assert scores.shape == (len(model.user_ids), len(model.item_ids))
    assert scores.dtype == np.float32 and np.isfinite(scores).all()
    assert scores.min() >= 0.0 and scores.max() <= 1.0 + 1e-6
    varied = scores.max(axis=1) > 0
    np.testing.assert_allclose(scores[varied].max(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(scores.min(axis=1), 0.0, atol=1e-6)


def test_batch_equals_single_and_candidates_are_columns(level):
    rows = np.array([0, 5, 17, 3])
    batch = level.score(rows)
    for j, u in enumerate(rows):
        np.testing.assert_allclose(level.score([u])[0], batch[j], rtol=1e-5, atol=1e-6)
    items = np.array([7, 2, 40, 2])
    np.testing.assert_allclose(level.score(rows, items), batch[:, items], rtol=1e-5, atol=1e-6)


def test_top_k_excludes_seen_and_follows_the_scores(level, model):
    rows = np.arange(level.n_users)
    top, vals = level.top_k(rows, 5, exclude=model.seen)
    scores = level.score(rows)
    for u in rows:
        assert not set(top[u]) & set(model.seen[u].indices)
        assert (np.diff(vals[u]) <= 1e-7).all()
        unseen = np.setdiff1d(np.arange(scores.shape[1]), model.seen[u].indices)
        # nothing outside the list scores higher than the list's last item
        assert scores[u, unseen].max() <= vals[u, 0] + 1e-6
        rest = np.setdiff1d(unseen, top[u])
        assert scores[u, rest].max() <= vals[u, -1] + 1e-6


def test_save_load_round_trip(level, tmp_path):
    level.save(tmp_path / "lv")
    assert not list(tmp_path.rglob("*.pkl")) and not list(tmp_path.rglob("*.pickle"))
    again = Level.load(tmp_path / "lv")
    assert type(again) is type(level) and again.describe() == level.describe()
    rows = np.arange(level.n_users)
    np.testing.assert_array_equal(again.score(rows), level.score(rows))


def test_state_holds_no_users_by_items_array(level, model):
    n_users, n_items = len(model.user_ids), len(model.item_ids)
    parts = getattr(level, "parts", [level])
    for part in parts:
        for key in (*part.user_arrays, *part.item_arrays):
            value = getattr(part, key)
            if value is not None and not sp.issparse(value):
                assert np.shape(value)[:2] != (n_users, n_items), f"{part.name}.{key}"


@pytest.mark.parametrize("name", ["macro", "meso", "micro", "semantic", "time", "social"])  # baselines: never folded
def test_with_user_changes_that_user_only(model, name):
    level = model.levels[name]
    ev = model.evidence(4)
    ev.weighted = sp.csr_matrix(ev.weighted * 0 + model.weighted[9])  # user 4 now behaves like user 9
    ev.seen = sp.csr_matrix(model.seen[9])
    ev.text_embedding = model.user_text_embeddings[9]
    states = model.fold_in(ev)
    changed = level.with_user(4, states[level.name])
    others = np.setdiff1d(np.arange(level.n_users), [4])
    np.testing.assert_array_equal(changed.score(others), level.score(others))
    np.testing.assert_allclose(changed.score([4])[0], level.score_state(states[level.name])[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["meso", "semantic", "time", "social"])
def test_fold_in_of_own_history_reproduces_the_fitted_row(model, name):
    """Folding a user's own history in gives back what the fit gave them (exact for these levels)."""
    for u in (0, 11, 30):
        states = model.fold_in(model.evidence(u))
        np.testing.assert_allclose(
            model.levels[name].score_state(states[name])[0], model.levels[name].score([u])[0], rtol=1e-4, atol=1e-5
        )


@pytest.mark.parametrize("name", ["micro", "macro"])
def test_fold_in_of_own_history_is_close_where_als_enters(model, name):
    """Item-item parts are exact; ALS's closed-form solve (which the macro user vector also holds)
    is close to the fitted factors, so the folded-in row is close to the fitted one."""
    for u in (0, 11, 30):
        states = model.fold_in(model.evidence(u))
        folded = model.levels[name].score_state(states[name])[0]
        fitted = model.levels[name].score([u])[0]
        assert np.corrcoef(folded, fitted)[0, 1] > 0.9
    if model.levels["micro"].part("als") is None:  # no ALS anywhere: exact
        np.testing.assert_allclose(folded, fitted, rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------------- known answers
def test_factor_level_known_scores():
    u = np.array([[1.0, 0.0], [0.0, 2.0]], np.float32)
    v = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]], np.float32)
    level = FactorLevel("toy", 3, user_side=u, item_side=v)
    np.testing.assert_allclose(level.score([0, 1]), [[1.0, 0.5, 0.0], [0.0, 0.5, 1.0]])
    top, _ = level.top_k([0, 1], 2, exclude=sp.csr_matrix([[1, 0, 0], [0, 0, 0]]))
    assert top.tolist() == [[1, 2], [2, 1]]


def test_meso_level_known_mix_and_fold_in():
    # items 0, 1 in category A, item 2 in B; user 0 only A, user 1 only B
    cats = sp.csr_matrix(np.array([[1, 0], [1, 0], [0, 1]], np.float32))
    weighted = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 2]], np.float32))
    from mgviz.levels.meso import category_mix

    mix = category_mix(weighted, cats, smoothing=0.0)
    np.testing.assert_allclose(mix, [[1, 0], [0, 1]])
    level = MesoLevel.fit(mix, np.asarray(weighted.sum(axis=0)).ravel(), cats, weighted, smoothing=0.0)
    scores = level.score([0, 1])
    assert scores[0, 2] == 0 and scores[1, 2] == 1
    ev = UserEvidence(sp.csr_matrix([[0, 0, 1.0]]), sp.csr_matrix([[0, 0, 1.0]]), np.zeros(4))
    np.testing.assert_allclose(level.fold_in(ev)["user_side"], [0, 1])


def test_item_item_level_ease_known_answer():
    """EASE with a huge λ shrinks to the co-occurrence direction; with any λ, B has a zero diagonal."""
    x = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 0]], np.float32))
    level = ItemItemLevel.fit(x, "ease", l2=1.0)
    assert np.allclose(np.diag(level.weights), 0)
    scores = level.raw([3])[0]  # user 3 has item 0: item 1 (co-occurs twice) beats item 2 (never)
    assert scores[1] > scores[2]
    gram = (x.T @ x).toarray() + np.eye(3)
    p = np.linalg.inv(gram)
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0)
    np.testing.assert_allclose(level.weights, b, rtol=1e-4, atol=1e-5)


def test_time_level_known_ranks_transitions_and_scores():
    """u0: items 0 → 1 → 2; u1: 0 → 1; u2: 3. What follows item 0 is 1 (twice, next step) and 2
    (once, two steps on): 2 / 2.5 and 0.5 / 2.5 after row scaling; item 1 is followed by 2 only."""
    users = np.array([0, 0, 0, 1, 1, 2])
    items = np.array([0, 1, 2, 0, 1, 3])
    times = np.array([1, 2, 3, 1, 2, 5], float) * 86400
    nb = sp.csr_matrix((4, 4), dtype=np.float32)
    level = TimeLevel.fit(users, items, times, 3, 4, nb, params={"next_share": 1.0, "half_life": 1.0})
    assert level.recent[0].toarray().tolist() == [[3, 2, 1, 0]]  # latest = rank 1
    np.testing.assert_allclose(level.transitions.toarray()[0], [0, 0.8, 0.2, 0], rtol=1e-6)
    np.testing.assert_allclose(level.transitions.toarray()[1], [0, 0, 1, 0], rtol=1e-6)
    # u1: item 1 (weight 1) and item 0 (weight 0.5): item 2 = 1 + 0.5 * 0.2, item 1 = 0.5 * 0.8
    raw = level.raw([1])[0]
    assert raw[2] == pytest.approx(1.0) and raw[1] == pytest.approx(0.4 / 1.1, rel=1e-5)
    assert level.because(1, 2) == 1  # the latest item explains item 2
    # a new user who just took item 0 gets what follows item 0
    ev = UserEvidence(sp.csr_matrix((1, 4)), sp.csr_matrix((1, 4)), np.zeros(2), recent=(np.array([3, 0]), np.zeros(2)))
    state = level.fold_in(ev)
    assert state["recent"].toarray().tolist() == [[1, 0, 0, 2]]
    scores = level.score_state(state)[0]
    assert scores[1] > scores[2] > 0
