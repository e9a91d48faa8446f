"""MMR re-ranking: λ = 0 is the fused list, a larger λ buys variety, seen items stay out, blocks change nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mgviz.evaluation.metrics import intra_list_diversity
from mgviz.fusion import top_n
from mgviz.rerank import check_diversity, mmr, relevance, rerank

#: A made-up catalogue: items 0-3 are category A, 4-7 B, 8-11 C; the user likes A best, then B, then C.
CATS = np.repeat(np.eye(3, dtype=np.float32), 4, axis=0)
SCORES = np.array([[1.0, 0.95, 0.9, 0.85, 0.6, 0.55, 0.5, 0.45, 0.2, 0.15, 0.1, 0.0]], np.float32)


def random_case(n_users=60, n_items=80, dim=6, seed=0):
    rng = np.random.default_rng(seed)
    scores = (rng.integers(0, 12, size=(n_users, n_items)) / 11).astype(np.float32)  # many ties
    seen = sp.random(n_users, n_items, density=0.15, format="csr", random_state=seed)
    vectors = rng.normal(size=(n_items, dim)).astype(np.float32)
    return scores, seen, vectors


def test_lambda_zero_is_exactly_the_fused_top_k():
    scores, seen, vectors = random_case()
    expected = top_n(scores, 10, exclude=seen)
    np.testing.assert_array_equal(rerank(scores, 10, vectors, 0.0, exclude=seen), expected)
    # the greedy loop itself, with no diversity term, keeps the candidates' order too
    cand = top_n(scores, 40, exclude=seen)
    cand_scores = np.take_along_axis(scores, cand, axis=1)
    np.testing.assert_array_equal(mmr(cand, cand_scores, vectors, 0.0, 10), expected)


def test_the_greedy_choice_follows_the_formula_on_a_known_catalogue():
    # λ = 0.5, relevance = the scores (they already span 0..1): after A0, B0 scores 0.5·0.6 = 0.30 against
    # A1's 0.5·0.95 − 0.5·1 = −0.025 and C0's 0.10; then C0 (0.10); then A1 (−0.025 beats B1's −0.225)
    top = rerank(SCORES, 4, CATS, 0.5)
    np.testing.assert_array_equal(top, [[0, 4, 8, 1]])
    np.testing.assert_array_equal(rerank(SCORES, 4, CATS, 0.0), [[0, 1, 2, 3]])  # all A: nothing varied


def test_more_lambda_more_intra_list_diversity_and_the_first_item_stays_the_most_relevant():
    rng = np.random.default_rng(1)
    n_users = 40
    # every user likes one category's items best: the fused lists are all of that category
    favourite = rng.integers(0, 3, n_users)
    scores = rng.random((n_users, 12)).astype(np.float32) * 0.3
    scores[CATS[:, favourite].T > 0] += 0.7
    ild = []
    for lam in (0.0, 0.2, 0.5, 0.9):
        top = rerank(scores, 4, CATS, lam)
        np.testing.assert_array_equal(top[:, 0], scores.argmax(axis=1))
        assert all(len(set(row)) == 4 for row in top.tolist()), "an item listed twice"
        ild.append(intra_list_diversity(top, item_categories=sp.csr_matrix(CATS)))
    assert ild[0] == 0.0  # four items of the favourite category
    assert ild[1] <= ild[2] <= ild[3] and ild[3] > ild[0] + 0.5, ild


def test_seen_items_stay_excluded():
    seen = sp.csr_matrix(([1.0, 1.0, 1.0], ([0, 0, 0], [0, 4, 5])), shape=(1, 12))
    top = rerank(SCORES, 6, CATS, 0.6, exclude=seen)
    assert not {0, 4, 5} & set(top[0].tolist())
    assert top[0, 0] == 1  # the most relevant unseen item
    scores, seen, vectors = random_case(seed=2)
    top = rerank(scores, 15, vectors, 0.7, exclude=seen)
    listed = sp.csr_matrix((np.ones(top.size), (np.repeat(np.arange(len(top)), 15), top.ravel())), shape=seen.shape)
    assert (top >= 0).all() and listed.multiply(seen).nnz == 0


def test_a_user_with_too_few_items_left_gets_padding_not_repeats():
    seen = sp.csr_matrix(np.r_[np.ones(9), np.zeros(3)][None, :])
    top = rerank(SCORES, 5, CATS, 0.5, exclude=seen)
    assert sorted(top[0, :3].tolist()) == [9, 10, 11] and top[0, 3:].tolist() == [-1, -1]
    assert top.shape == top_n(SCORES, 5, exclude=seen).shape


def test_blockwise_equals_one_shot_and_runs_are_deterministic(monkeypatch):
    import mgviz.rerank as rr

    scores, seen, vectors = random_case(n_users=57, seed=3)
    cand = top_n(scores, 30, exclude=seen)
    cand_scores = np.take_along_axis(scores, cand, axis=1)
    whole = mmr(cand, cand_scores, vectors, 0.4, 10)
    real, blocks = rr._mmr_block, []

    def counted(cand, *args):
        blocks.append(len(cand))
        return real(cand, *args)

    monkeypatch.setattr(rr, "_mmr_block", counted)
    for cells, sizes in ((1, [1] * 57), (30 * 30 * 5, [5] * 11 + [2]), (30 * 30 * 13, [13] * 4 + [5])):
        blocks.clear()  # 1, 5 and 13 users a block (30 candidates² numbers each)
        np.testing.assert_array_equal(mmr(cand, cand_scores, vectors, 0.4, 10, cells=cells), whole)
        assert blocks == sizes
    np.testing.assert_array_equal(mmr(cand, cand_scores, vectors, 0.4, 10), whole)
    assert not np.array_equal(whole, cand[:, :10]), "λ = 0.4 changed nothing: the test says nothing"


def test_sparse_and_dense_category_vectors_agree():
    scores, seen, _ = random_case(seed=4)
    cats = (np.random.default_rng(4).random((scores.shape[1], 5)) < 0.3).astype(np.float32)
    dense = rerank(scores, 10, cats, 0.5, exclude=seen)
    np.testing.assert_array_equal(rerank(scores, 10, sp.csr_matrix(cats), 0.5, exclude=seen), dense)


def test_relevance_is_rescaled_over_the_valid_candidates():
    rel = relevance(
        np.array([[4.0, 3.0, 2.0, 9.0], [1.0, 1.0, 0.0, 0.0]]), np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    )
    np.testing.assert_allclose(rel, [[1.0, 0.5, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "lots", None])
def test_diversity_outside_zero_to_one_is_refused(bad):
    with pytest.raises(ValueError, match="diversity"):
        check_diversity(bad)


# ----------------------------------------------------------------------------------------------- wired into the library
@pytest.fixture(scope="module")
def model():
    from helpers_app import tiny_model

    return tiny_model()


def test_model_recommend_at_zero_is_todays_lists_and_above_zero_diversifies(model):
    weights = {"micro": 0.7, "meso": 0.3}
    today = model.recommend(weights, n=10)
    pd.testing.assert_frame_equal(model.recommend(weights, n=10, diversity=0.0, similarity="embeddings"), today)
    index = model.dataset.item_index()
    base = index.get_indexer(today["item_id"]).reshape(-1, 10)
    for similarity in ("categories", "embeddings"):
        diverse = model.recommend(weights, n=10, diversity=0.5, similarity=similarity)
        top = index.get_indexer(diverse["item_id"]).reshape(-1, 10)
        np.testing.assert_array_equal(top[:, 0], base[:, 0])
        assert model.seen[np.repeat(np.arange(len(top)), 10), top.ravel()].sum() == 0
        contributions = diverse[["macro", "meso", "micro", "semantic", "time"]].sum(axis=1)
        np.testing.assert_allclose(contributions, diverse["score"], atol=2e-5)  # the score stays the fused score
        ild = intra_list_diversity(top, item_categories=model.item_categories)
        assert ild > intra_list_diversity(base, item_categories=model.item_categories) + 0.05, similarity
    with pytest.raises(ValueError, match="similarity"):
        model.recommend(weights, n=10, diversity=0.3, similarity="colour")
    with pytest.raises(ValueError, match="diversity"):
        model.recommend(weights, n=10, diversity=2)


@pytest.mark.parametrize("similarity", ["categories", "embeddings"])
def test_recommend_in_blocks_with_diversity_gives_the_same_lists(model, monkeypatch, similarity):
    import mgviz.levels.base as base

    weights = {"micro": 0.6, "semantic": 0.4}
    whole = model.recommend(weights, n=8, diversity=0.3, similarity=similarity)
    real, blocks = base.iter_blocks, []

    def small_blocks(rows, n_items, cells=0):  # 16 users a block
        for block in real(rows, n_items, cells=16 * n_items):
            blocks.append(len(block))
            yield block

    monkeypatch.setattr(base, "iter_blocks", small_blocks)
    pd.testing.assert_frame_equal(model.recommend(weights, n=8, diversity=0.3, similarity=similarity), whole)
    assert len(blocks) == 6


def test_user_list_all_lists_and_run_settings_carry_the_diversity(model):
    from mgviz import explore

    weights = {"micro": 1.0}
    one = explore.user_list(model, 3, weights, 6, diversity=0.4)
    every = explore.all_lists(model, weights, 6, diversity=0.4)
    mine = every[every["user_id"] == str(model.user_ids[3])]
    assert one["item_id"].tolist() == mine["item_id"].tolist()
    assert one["item_id"].tolist() != explore.user_list(model, 3, weights, 6)["item_id"].tolist()
    settings = explore.run_settings(model, weights, 6, "test", diversity=0.4, similarity="embeddings")
    assert settings["fusion"] == {"weights": weights, "n": 6, "diversity": 0.4, "similarity": "embeddings"}
    assert explore.run_settings(model, weights, 6, "test")["fusion"]["diversity"] == 0.0


def test_held_out_metrics_rerank_before_scoring():
    from helpers_app import HashEncoder, tiny_config, tiny_dataset

    from mgviz.evaluation.report import EvalContext

    ctx = EvalContext.from_dataset(tiny_dataset(), tiny_config(), HashEncoder(), tune=False)
    weights = {"micro": 0.7, "meso": 0.3}
    plain = ctx.metrics_for(weights, quick=True)
    assert ctx.metrics_for(weights, quick=True, diversity=0.0, similarity="embeddings") == plain
    np.testing.assert_array_equal(ctx.fused_lists(weights, diversity=0.0), ctx.fused_lists(weights))
    diverse = ctx.metrics_for(weights, quick=True, diversity=0.6)
    assert diverse["ild_category@10"] > plain["ild_category@10"] + 0.05
    assert diverse["ild_category"] == diverse["ild_category@10"]  # the dashboard's alias follows
    lists = ctx.fused_lists(weights, diversity=0.6)
    np.testing.assert_array_equal(lists[:, 0], ctx.fused_lists(weights)[:, 0])
    assert ctx.train[ctx.rows][np.repeat(np.arange(len(lists)), lists.shape[1]), lists.ravel()].sum() == 0
