"""Tests of mgviz.evaluation: hand-computed metric values, an independent reference, split properties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from mgviz.evaluation import (
    BASELINES,
    average_popularity,
    beyond_accuracy,
    by_group,
    choose_weights_grid,
    coverage,
    describe_split,
    ease,
    gini,
    global_temporal_split,
    hit_matrix,
    intra_list_diversity,
    item_knn,
    learn_weights_stacking,
    leave_last_one_out,
    most_popular,
    novelty,
    per_user_metrics,
    personalisation,
    random_split,
    ranking_metrics,
    recommendation_gini,
    simplex_grid,
    split,
    temporal_user_split,
    weight_surface,
)
from mgviz.evaluation.tuning import _reachable_columns
from mgviz.fusion import fuse, normalise_per_user, top_n


def csr(rows: list[list[int]], n_items: int) -> sp.csr_matrix:
    r = [u for u, items in enumerate(rows) for _ in items]
    c = [i for items in rows for i in items]
    return sp.csr_matrix((np.ones(len(c), dtype=np.float32), (r, c)), shape=(len(rows), n_items))


# ------------------------------------------------------------------ accuracy by hand
# user 0: test {1, 3}, list [1, 0, 3, 5]; user 1: test {2}, list [4, 2, -1, -1] (padded);
# user 2: no test items -> not evaluated.
TINY_TEST = csr([[1, 3], [2], []], 6)
TINY_TOP = np.array([[1, 0, 3, 5], [4, 2, -1, -1], [0, 1, 2, 3]])
L3 = 1 / math.log2(3)  # discount of rank 2 = 0.630930
L4 = 1 / math.log2(4)  # discount of rank 3 = 0.5


def test_hit_matrix_by_hand():
    expected = [[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    np.testing.assert_array_equal(hit_matrix(TINY_TOP, TINY_TEST), np.array(expected, dtype=bool))


def test_per_user_metrics_by_hand():
    df = per_user_metrics(TINY_TOP, TINY_TEST, ks=(2, 4)).set_index("user")
    assert list(df.index) == [0, 1]
    assert list(df["n_test"]) == [2, 1]
    u0, u1 = df.loc[0], df.loc[1]
    # user 0 @2: hits [1, 0] -> P = 1/2, R = 1/2, F1 = 1/2
    # DCG = 1/log2(2) = 1; IDCG over min(2, 2) = 1 + 1/log2(3); AP = (1/1) / min(2, 2); first hit at rank 1.
    assert u0["precision@2"] == pytest.approx(0.5)
    assert u0["recall@2"] == pytest.approx(0.5)
    assert u0["f1@2"] == pytest.approx(0.5)
    assert u0["ndcg@2"] == pytest.approx(1 / (1 + L3))
    assert u0["hit_rate@2"] == 1
    assert u0["map@2"] == pytest.approx(0.5)
    assert u0["mrr@2"] == pytest.approx(1.0)
    # user 0 @4: hits [1, 0, 1, 0] -> P = 2/4, R = 2/2, F1 = 2·0.5·1 / 1.5 = 2/3
    # DCG = 1 + 1/log2(4) = 1.5, IDCG = 1 + 1/log2(3); AP = (1/1 + 2/3) / min(2, 4) = 5/6.
    assert u0["precision@4"] == pytest.approx(0.5)
    assert u0["recall@4"] == pytest.approx(1.0)
    assert u0["f1@4"] == pytest.approx(2 / 3)
    assert u0["ndcg@4"] == pytest.approx((1 + L4) / (1 + L3))
    assert u0["map@4"] == pytest.approx(5 / 6)
    # user 1 @2: hits [0, 1] -> P = 1/2, R = 1/1, F1 = 2/3; DCG = 1/log2(3), IDCG = 1;
    # AP = (1/2) / min(1, 2) = 1/2; MRR = 1/2.
    assert u1["precision@2"] == pytest.approx(0.5)
    assert u1["recall@2"] == pytest.approx(1.0)
    assert u1["f1@2"] == pytest.approx(2 / 3)
    assert u1["ndcg@2"] == pytest.approx(L3)
    assert u1["map@2"] == pytest.approx(0.5)
    assert u1["mrr@2"] == pytest.approx(0.5)
    # user 1 @4: padding never hits; P = 1/4 (divided by k, not by the list length), F1 = 2·0.25·1 / 1.25 = 0.4.
    assert u1["precision@4"] == pytest.approx(0.25)
    assert u1["f1@4"] == pytest.approx(0.4)
    assert u1["ndcg@4"] == pytest.approx(L3)


def test_ranking_metrics_by_hand_means():
    res = ranking_metrics(TINY_TOP, TINY_TEST, ks=(2, 4))
    assert res[2]["n_users"] == 2  # user 2 has no test item
    # means of the per-user values above
    assert res[2]["precision"] == pytest.approx(0.5)
    assert res[2]["recall"] == pytest.approx(0.75)
    assert res[2]["f1"] == pytest.approx((0.5 + 2 / 3) / 2)
    assert res[2]["ndcg"] == pytest.approx((1 / (1 + L3) + L3) / 2)
    assert res[2]["hit_rate"] == pytest.approx(1.0)
    assert res[2]["map"] == pytest.approx(0.5)
    assert res[2]["mrr"] == pytest.approx(0.75)
    assert res[4]["precision"] == pytest.approx(0.375)
    assert res[4]["recall"] == pytest.approx(1.0)
    assert res[4]["f1"] == pytest.approx((2 / 3 + 0.4) / 2)
    assert res[4]["map"] == pytest.approx((5 / 6 + 0.5) / 2)


def test_ranking_metrics_rows_subset_and_errors():
    # Lists for users 1 and 0 only, in that order.
    sub = ranking_metrics(TINY_TOP[[1, 0]], TINY_TEST, ks=(2,), rows=[1, 0])
    full = ranking_metrics(TINY_TOP, TINY_TEST, ks=(2,))
    assert sub == full
    with pytest.raises(ValueError, match="rows"):
        ranking_metrics(TINY_TOP[:2], TINY_TEST, ks=(2,))
    with pytest.raises(ValueError, match="ks"):
        ranking_metrics(TINY_TOP, TINY_TEST, ks=(0,))
    # k beyond the list width counts the missing ranks as misses: user 0 has 2 hits in 8 ranks, user 1 has 1
    assert ranking_metrics(TINY_TOP, TINY_TEST, ks=(8,))[8]["precision"] == pytest.approx((2 / 8 + 1 / 8) / 2)


def test_input_matrix_is_not_modified():
    test = TINY_TEST.copy()
    test.data[0] = 0.0  # an explicit zero is not relevant
    before = test.copy()
    res = ranking_metrics(TINY_TOP, test, ks=(2,))
    assert res[2]["n_users"] == 2
    assert (test != before).nnz == 0 and test.nnz == before.nnz


def test_by_group_means():
    df = per_user_metrics(TINY_TOP, TINY_TEST, ks=(2,))
    out = by_group(df, {0: "old", 1: "young"})
    assert list(out.index) == ["old", "young"]
    assert out.loc["old", "n_users"] == 1
    assert out.loc["young", "mrr@2"] == pytest.approx(0.5)
    # array form: one label per user row; user 2 is not evaluated and so absent
    out2 = by_group(df, np.array(["a", "a", "b"]))
    assert list(out2.index) == ["a"]
    assert out2.loc["a", "recall@2"] == pytest.approx(0.75)


# ------------------------------------------------------------------ accuracy vs independent references
def loop_metrics(top: np.ndarray, test: sp.csr_matrix, k: int) -> dict[str, float]:
    """Straightforward per-user implementation of the same definitions."""
    sums: dict[str, float] = dict.fromkeys(("precision", "recall", "f1", "ndcg", "hit_rate", "map", "mrr"), 0.0)
    n = 0
    for u in range(test.shape[0]):
        rel = set(test[u].indices.tolist())
        if not rel:
            continue
        n += 1
        lst = [int(i) for i in top[u, :k]]
        hits = [1 if i in rel else 0 for i in lst]
        p, r = sum(hits) / k, sum(hits) / len(rel)
        sums["precision"] += p
        sums["recall"] += r
        sums["f1"] += 2 * p * r / (p + r) if p + r else 0.0
        dcg = sum(h / math.log2(j + 2) for j, h in enumerate(hits))
        idcg = sum(1 / math.log2(j + 2) for j in range(min(len(rel), k)))
        sums["ndcg"] += dcg / idcg
        sums["hit_rate"] += 1.0 if any(hits) else 0.0
        seen, ap = 0, 0.0
        for j, h in enumerate(hits):
            if h:
                seen += 1
                ap += seen / (j + 1)
        sums["map"] += ap / min(len(rel), k)
        sums["mrr"] += next((1 / (j + 1) for j, h in enumerate(hits) if h), 0.0)
    return {m: v / n for m, v in sums.items()}


def random_case(n_users=60, n_items=80, seed=0):
    rng = np.random.default_rng(seed)
    train = sp.random(n_users, n_items, density=0.1, format="csr", random_state=rng, dtype=np.float32)
    test = sp.random(n_users, n_items, density=0.05, format="csr", random_state=rng, dtype=np.float32)
    test = test - test.multiply(train > 0)  # held-out items are not training items
    test.eliminate_zeros()
    test.data[:] = 1.0
    scores = rng.random((n_users, n_items)).astype(np.float32)
    return train, sp.csr_matrix(test), scores


def test_matches_python_loop_on_random_case():
    train, test, scores = random_case()
    top = top_n(scores, 20, exclude=train)
    res = ranking_metrics(top, test, ks=(5, 20))
    for k in (5, 20):
        ref = loop_metrics(top, test, k)
        for name, value in ref.items():
            assert res[k][name] == pytest.approx(value, rel=1e-9, abs=1e-12), (k, name)


class PrecomputedModel:
    """Just enough of implicit's RecommenderBase for ranking_metrics_at_k: fixed scores."""

    def __init__(self, scores: np.ndarray):
        self.scores = scores

    def recommend(self, userid, user_items, N=10, filter_already_liked_items=True, **_):
        users = np.atleast_1d(userid)
        ids = top_n(self.scores[users], N, exclude=user_items if filter_already_liked_items else None)
        return ids.astype(np.int32), np.take_along_axis(self.scores[users], ids, axis=1)


def test_matches_implicit_ranking_metrics_at_k():
    implicit_eval = pytest.importorskip("implicit.evaluation")
    train, test, scores = random_case(n_users=120, n_items=150, seed=3)
    k = 10
    ref = implicit_eval.ranking_metrics_at_k(PrecomputedModel(scores), train, test, K=k, show_progress=False)
    top = top_n(scores, k, exclude=train)
    res = ranking_metrics(top, test, ks=(k,))[k]
    assert res["ndcg"] == pytest.approx(ref["ndcg"], rel=1e-9)
    assert res["map"] == pytest.approx(ref["map"], rel=1e-9)
    # implicit's "precision" is pooled: total hits / total min(k, |test|).
    df = per_user_metrics(top, test, ks=(k,))
    pooled = (df[f"precision@{k}"] * k).sum() / np.minimum(df["n_test"], k).sum()
    assert pooled == pytest.approx(ref["precision"], rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 8),
    st.integers(1, 12),
    st.integers(1, 6),
    st.integers(0, 2**31 - 1),
)
def test_hit_matrix_matches_brute_force(n_users, n_items, k, seed):
    rng = np.random.default_rng(seed)
    test = sp.csr_matrix(rng.random((n_users, n_items)) < 0.3, dtype=np.float32)
    top = rng.integers(-1, n_items, size=(n_users, k))
    dense = test.toarray() > 0
    expected = np.array([[i >= 0 and dense[u, i] for i in top[u]] for u in range(n_users)], dtype=bool)
    np.testing.assert_array_equal(hit_matrix(top, test), expected)


# ------------------------------------------------------------------ beyond accuracy by hand
def test_coverage_and_gini_by_hand():
    # lists use items {0, 1, 2} of 5
    assert coverage(np.array([[0, 1], [1, 2]]), 5) == pytest.approx(3 / 5)
    assert coverage(np.array([[0, -1]]), 4) == pytest.approx(1 / 4)
    # counts sorted [0, 0, 0, 4]: sum_r (2r - n - 1) x_r = (8 - 5)·4 = 12; / (n · total) = 12 / 16
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)
    assert gini([2, 2, 2]) == pytest.approx(0.0)
    assert recommendation_gini(np.array([[3], [3], [3], [3]]), 4) == pytest.approx(0.75)


def test_intra_list_diversity_by_hand():
    top = np.array([[0, 1, 2]])
    # categories 0:{a}, 1:{a,b}, 2:{c}: Jaccard distances (0,1) = 1 - 1/2, (0,2) = 1, (1,2) = 1 -> mean 2.5/3
    cats = [["a"], ["a", "b"], ["c"]]
    assert intra_list_diversity(top, item_categories=cats) == pytest.approx(2.5 / 3)
    # embeddings (1,0), (0,1), (1,1): cosine distances 1, 1 - 1/√2, 1 - 1/√2
    emb = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert intra_list_diversity(top, embeddings=emb) == pytest.approx((1 + 2 * (1 - 1 / math.sqrt(2))) / 3)
    # padding is ignored: only the pair (0, 1) is left; a one-item list has no pair and is skipped
    assert intra_list_diversity(np.array([[0, 1, -1], [2, -1, -1]]), item_categories=cats) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        intra_list_diversity(top)
    # Same lists with a large tag vocabulary (> 256 tags takes the sparse path): same answer.
    many = cats + [[f"tag{j}"] for j in range(300)]
    assert intra_list_diversity(top, item_categories=many) == pytest.approx(2.5 / 3)
    assert intra_list_diversity(np.array([[0, 1, 2], [2, 5, 6]]), item_categories=many) == pytest.approx(
        (2.5 / 3 + 1.0) / 2
    )


def test_novelty_and_popularity_by_hand():
    # 4 training users: item 0 by 3 users, item 1 by 1 user, item 2 by nobody
    train = csr([[0, 1], [0], [0], []], 3)
    # -log2((3+1)/(4+1)) and -log2((1+1)/(4+1))
    expected = (-math.log2(4 / 5) - math.log2(2 / 5)) / 2
    assert novelty(np.array([[0, 1]]), train) == pytest.approx(expected)
    # user lists [0, 1] -> (3 + 1)/2 = 2 and [0, 2] -> (3 + 0)/2 = 1.5 -> mean 1.75
    assert average_popularity(np.array([[0, 1], [0, 2]]), train) == pytest.approx(1.75)


def test_personalisation_by_hand():
    top = np.array([[0, 1], [0, 2], [3, 4]])
    # Jaccard: (A,B) = 1/3, (A,C) = (B,C) = 0 -> mean 1/9
    assert personalisation(top, 5) == pytest.approx(1 - 1 / 9)
    # overlap: (A,B) = 1/2 -> mean 1/6
    assert personalisation(top, 5, measure="overlap") == pytest.approx(1 - 1 / 6)
    same = np.tile([0, 1, 2], (30, 1))
    assert personalisation(same, 5) == pytest.approx(0.0)
    # sampling is deterministic
    rng = np.random.default_rng(1)
    many = rng.integers(0, 50, size=(300, 5))
    assert personalisation(many, 50, max_users=100, seed=3) == personalisation(many, 50, max_users=100, seed=3)


def test_beyond_accuracy_keys():
    train, _, scores = random_case()
    top = top_n(scores, 10, exclude=train)
    cats = [["x"] if i % 2 else ["y", "z"] for i in range(train.shape[1])]
    out = beyond_accuracy(top, train, item_categories=cats, embeddings=np.eye(train.shape[1]))
    assert set(out) == {
        "coverage",
        "novelty",
        "avg_popularity",
        "gini",
        "personalisation",
        "ild_category",
        "ild_embedding",
    }
    assert out["ild_embedding"] == pytest.approx(1.0)  # one-hot embeddings are mutually orthogonal
    assert 0 <= out["coverage"] <= 1


# ------------------------------------------------------------------ splits
def make_log(n_rows=200, n_users=15, n_times=20, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "user_id": rng.integers(0, n_users, n_rows).astype(str),
            "item_id": rng.integers(0, 30, n_rows).astype(str),
            "rating": np.ones(n_rows),
            "timestamp": rng.integers(0, n_times, n_rows).astype(float),  # many ties on purpose
            "text": "",
        },
        index=pd.RangeIndex(100, 100 + n_rows),  # labels that are not positions
    )


def assert_partition(inter, train, test):
    assert train.index.intersection(test.index).empty
    assert train.index.union(test.index).sort_values().equals(inter.index.sort_values())
    pd.testing.assert_frame_equal(pd.concat([train, test]).sort_index(), inter.sort_index())


def _order_key(df: pd.DataFrame, inter: pd.DataFrame) -> pd.Series:
    """(timestamp, row position) as one sortable key: the split's time order with ties by row."""
    pos = inter.index.get_indexer(df.index)
    return pd.Series(list(zip(df["timestamp"], pos, strict=True)), index=df.index)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.1, 0.2, 0.5, 0.9]))
def test_temporal_split_properties(seed, frac):
    inter = make_log(seed=seed)
    train, test = temporal_user_split(inter, frac)
    assert_partition(inter, train, test)
    sizes = inter.groupby("user_id").size()
    n_train = train.groupby("user_id").size().reindex(sizes.index, fill_value=0)
    n_test = test.groupby("user_id").size().reindex(sizes.index, fill_value=0)
    assert (n_test[sizes < 2] == 0).all()
    assert (n_train[sizes >= 2] >= 1).all()
    assert (n_test[sizes >= 2] >= 1).all()
    for user, t in test.groupby("user_id"):
        tr = train[train["user_id"] == user]
        assert t["timestamp"].min() >= tr["timestamp"].max()
        assert min(_order_key(t, inter)) > max(_order_key(tr, inter))


def test_temporal_split_counts_and_tie_order():
    inter = pd.DataFrame(
        {
            "user_id": ["a"] * 5 + ["b"],
            "item_id": list("pqrst") + ["p"],
            "rating": 1.0,
            "timestamp": [5.0, 1.0, 5.0, 2.0, 3.0, 0.0],
            "text": "",
        }
    )
    train, test = temporal_user_split(inter, 0.4)
    # user a, time order (ties by row): q(1) s(2) t(3) p(5, row 0) r(5, row 2); last round(5·0.4) = 2 -> p, r
    assert sorted(test["item_id"]) == ["p", "r"]
    assert "b" not in set(test["user_id"])  # a single interaction stays in train
    train, test = leave_last_one_out(inter)
    assert list(test["item_id"]) == ["r"]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_loo_leaves_exactly_one(seed):
    inter = make_log(seed=seed)
    train, test = leave_last_one_out(inter)
    assert_partition(inter, train, test)
    sizes = inter.groupby("user_id").size()
    n_test = test.groupby("user_id").size().reindex(sizes.index, fill_value=0)
    assert (n_test == (sizes >= 2).astype(int)).all()


def test_random_split_deterministic_under_seed():
    inter = make_log(n_rows=500)
    a_train, a_test = random_split(inter, 0.3, seed=7)
    b_train, b_test = random_split(inter, 0.3, seed=7)
    pd.testing.assert_frame_equal(a_test, b_test)
    pd.testing.assert_frame_equal(a_train, b_train)
    _, c_test = random_split(inter, 0.3, seed=8)
    assert not a_test.index.equals(c_test.index)
    assert_partition(inter, a_train, a_test)
    # same per-user counts as the temporal split
    _, t_test = temporal_user_split(inter, 0.3)
    assert a_test.groupby("user_id").size().equals(t_test.groupby("user_id").size())


def test_global_split_single_cut():
    inter = make_log(n_rows=300)
    train, test = global_temporal_split(inter, 0.25)
    assert_partition(inter, train, test)
    assert len(test) == 75
    assert test["timestamp"].min() >= train["timestamp"].max()


def test_split_dispatch_and_describe():
    inter = make_log()
    for method, fn in [("temporal", temporal_user_split), ("global", global_temporal_split)]:
        got = split(inter, method, 0.2)
        exp = fn(inter, 0.2)
        pd.testing.assert_frame_equal(got[1], exp[1])
    pd.testing.assert_frame_equal(split(inter, "loo")[1], leave_last_one_out(inter)[1])
    pd.testing.assert_frame_equal(split(inter, "random", 0.2, 3)[1], random_split(inter, 0.2, 3)[1])
    with pytest.raises(ValueError, match="split method"):
        split(inter, "kfold")
    with pytest.raises(ValueError, match="test_frac"):
        split(inter, "temporal", 1.5)
    train, test = split(inter, "temporal", 0.2)
    info = describe_split(train, test, "temporal", 0.2, 0)
    assert info["n_train"] + info["n_test"] == len(inter)
    assert info["n_test_users"] <= info["n_train_users"]
    cold = (~test["item_id"].isin(set(train["item_id"]))).sum()
    assert info["n_test_cold_items"] == cold
    assert info["n_test_cold_users"] == 0  # per-user splits keep every user in train


# ------------------------------------------------------------------ baselines
# Items 0 and 1 are always consumed together; user 5 has only item 0.
CO_TRAIN = csr([[0, 1], [0, 1], [0, 1], [2], [2, 3], [0]], 4)
EVERYONE = np.arange(6)


@pytest.mark.parametrize("name", ["ease", "itemknn"])
def test_co_consumed_item_ranked_first(name):
    level = BASELINES[name](CO_TRAIN) if name == "itemknn" else ease(CO_TRAIN, l2=1.0)
    scores = level.raw(EVERYONE)
    assert scores.shape == (6, 4) and scores.dtype == np.float32
    assert top_n(scores, 1, exclude=CO_TRAIN)[5, 0] == 1


def test_ease_matches_closed_form():
    x = CO_TRAIN.toarray().astype(np.float64)
    p = np.linalg.inv(x.T @ x + 2.0 * np.eye(4))
    b = np.eye(4) - p / np.diag(p)  # I − P·diag(1/diag(P)); its diagonal is 0
    assert np.allclose(np.diag(b), 0)
    np.testing.assert_allclose(ease(CO_TRAIN, l2=2.0).raw(EVERYONE), x @ b, rtol=1e-5, atol=1e-6)


def test_most_popular_and_item_knn_neighbours():
    pop = most_popular(CO_TRAIN).raw(EVERYONE)
    np.testing.assert_array_equal(pop[0], [4, 3, 2, 1])  # users per item
    assert (pop == pop[0]).all()
    # with one neighbour per item, item 3's only neighbour is item 2, so user 3 ({2}) scores item 3 > 0
    knn = item_knn(CO_TRAIN, k=1, shrink=0.0).raw(EVERYONE)
    assert knn[3, 3] > 0 and knn[3, 0] == 0


# ------------------------------------------------------------------ tuning
def test_simplex_grid():
    g = simplex_grid(["macro", "meso", "micro", "semantic"], 0.1)
    assert g.shape == (286, 4)
    np.testing.assert_allclose(g.sum(axis=1), 1.0)
    assert (g >= 0).all()
    assert len(np.unique(np.round(g, 9), axis=0)) == 286
    np.testing.assert_allclose(simplex_grid(2, 0.5), [[0, 1], [0.5, 0.5], [1, 0]])
    with pytest.raises(ValueError):
        simplex_grid(3, 0.3)


def oracle_case(seed=0, n_users=40, n_items=60):
    """A level equal to the target, one of noise, and training items to exclude."""
    train, target, noise = random_case(n_users, n_items, seed)
    levels = {"oracle": target.toarray().astype(np.float32), "noise": noise}
    return levels, train, target


def test_weight_surface_and_choice():
    levels, train, target = oracle_case()
    weights, surface = choose_weights_grid(levels, train, target, k=10, step=0.1)
    assert len(surface) == 11 and list(surface.columns) == ["oracle", "noise", "ndcg"]
    # with enough weight on the oracle, every target item outranks every non-target item
    assert surface.loc[surface["oracle"] == 1.0, "ndcg"].iloc[0] > surface.loc[surface["oracle"] == 0.0, "ndcg"].iloc[0]
    assert weights["oracle"] >= 0.5
    assert surface["ndcg"].max() == pytest.approx(surface.loc[surface["oracle"] == 1.0, "ndcg"].iloc[0])
    assert sum(weights.values()) == pytest.approx(1.0)


def test_weight_surface_matches_direct_evaluation():
    levels, train, target = oracle_case(seed=2)
    levels["third"] = np.random.default_rng(9).random(levels["noise"].shape).astype(np.float32)
    surface = weight_surface(levels, train, target, k=5, step=0.25, metric="recall")
    for _, row in surface.sample(4, random_state=0).iterrows():
        w = {lvl: row[lvl] for lvl in levels}
        if sum(w.values()) == 0:
            continue
        direct = ranking_metrics(top_n(fuse(levels, w), 5, exclude=train), target, ks=(5,))[5]["recall"]
        assert row["recall"] == pytest.approx(direct)
    with pytest.raises(ValueError, match="metric"):
        weight_surface(levels, train, target, metric="auc")


def correlated_case(seed: int):
    """Three levels sharing a common part (as real ones do), 50 users × 300 items."""
    rng = np.random.default_rng(seed)
    train, target, _ = random_case(50, 300, seed=seed)
    base = rng.gamma(0.5, size=train.shape)
    levels = {
        f"l{j}": normalise_per_user(base + s * rng.gamma(0.5, size=train.shape)) for j, s in enumerate((0.2, 0.5, 1))
    }
    return levels, train, target


def test_weight_surface_pruning_changes_no_list():
    # Correlated levels (as real ones are) let the grid search drop most items before fusing;
    # the surface must still equal fusing and ranking the full catalogue at every grid point.
    levels, train, target = correlated_case(11)
    sub = {lvl: np.where(train.toarray() > 0, -np.inf, arr).astype(np.float32) for lvl, arr in levels.items()}
    assert _reachable_columns(sub, 5) is not None  # the pruned path is the one under test
    surface = weight_surface(levels, train, target, k=5, step=0.25, metric="ndcg")
    for _, row in surface.iterrows():
        w = {lvl: row[lvl] for lvl in levels}
        direct = ranking_metrics(top_n(fuse(levels, w), 5, exclude=train), target, ks=(5,))[5]["ndcg"]
        assert row["ndcg"] == pytest.approx(direct, abs=1e-12)


def test_weight_surface_of_the_product_fusion_is_the_product_fusions():
    # A run built with fusion_strategy="product" must be tuned on the product's lists, not the sum's.
    levels, train, target = correlated_case(12)
    product = weight_surface(levels, train, target, k=5, step=0.25, metric="ndcg", strategy="product")
    weighted = weight_surface(levels, train, target, k=5, step=0.25, metric="ndcg")
    for _, row in product.iterrows():
        w = {lvl: row[lvl] for lvl in levels}
        lists = top_n(fuse(levels, w, strategy="product"), 5, exclude=train)
        assert row["ndcg"] == pytest.approx(ranking_metrics(lists, target, ks=(5,))[5]["ndcg"], abs=1e-12)
    assert not np.allclose(product["ndcg"], weighted["ndcg"])  # the two fusions rank differently here
    weights, _ = choose_weights_grid(levels, train, target, k=5, step=0.25, strategy="product")
    assert (
        product.loc[(product[list(levels)] == pd.Series(weights)).all(axis=1), "ndcg"].iloc[0] == product["ndcg"].max()
    )
    with pytest.raises(ValueError, match="strategy"):
        weight_surface(levels, train, target, strategy="max")


def test_stacking_prefers_the_level_equal_to_target():
    levels, train, target = oracle_case(seed=4, n_users=80, n_items=100)
    levels["noise2"] = np.random.default_rng(5).random(levels["noise"].shape).astype(np.float32)
    w = learn_weights_stacking(levels, train, target, seed=0)
    assert set(w) == {"oracle", "noise", "noise2"}
    assert all(v >= 0 for v in w.values())
    assert sum(w.values()) == pytest.approx(1.0)
    assert max(w, key=w.get) == "oracle" and w["oracle"] > 0.5
    assert learn_weights_stacking(levels, train, target, seed=0) == w  # deterministic under seed


def test_interest_coverage_by_hand():
    from mgviz.evaluation.metrics import interest_coverage

    cats = [["a"], ["b"], ["a", "c"], ["d"]]
    # user 0 held out items 1 and 2 -> wants {b, a, c}; list [0, 3] touches {a, d} -> 1/3
    # user 1 held out item 3 -> wants {d}; list [3, 0] touches {d, a} -> 1/1
    test = sp.csr_matrix(np.array([[0, 1, 1, 0], [0, 0, 0, 1]], dtype=np.float32))
    top = np.array([[0, 3], [3, 0]])
    assert interest_coverage(top, test, cats) == pytest.approx((1 / 3 + 1) / 2)
    # cut at k=1: user 0 list [0] -> {a}: 1/3; user 1 list [3] -> {d}: 1
    assert interest_coverage(top, test, cats, k=1) == pytest.approx((1 / 3 + 1) / 2)
    assert interest_coverage(np.array([[1, -1], [-1, -1]]), test, cats) == pytest.approx((1 / 3 + 0) / 2)


def test_grid_search_on_candidates_matches_the_full_ranking_on_a_big_catalogue(monkeypatch):
    """Past CANDIDATE_MIN_ITEMS items the grid ranks each user's candidates (every level's top 200):
    on correlated levels the surface is the same as ranking the whole catalogue."""
    import mgviz.evaluation.tuning as tuning

    rng = np.random.default_rng(3)
    n_users, n_items = 60, 3000
    truth = rng.random((n_users, n_items)).astype(np.float32)
    levels = {lv: (truth + noise * rng.random((n_users, n_items))).astype(np.float32)
              for lv, noise in (("macro", 3.0), ("meso", 2.0), ("micro", 0.7), ("semantic", 4.0))}  # fmt: skip
    target = sp.csr_matrix((truth >= np.quantile(truth, 0.995, axis=1, keepdims=True)).astype(np.float32))
    calls, real = [], tuning._candidate_columns
    monkeypatch.setattr(tuning, "_candidate_columns", lambda *a: calls.append(1) or real(*a))
    cand = weight_surface(levels, None, target, k=10, step=0.25)
    assert calls, "the candidate path was not taken"
    monkeypatch.setattr(tuning, "CANDIDATE_MIN_ITEMS", 10**9)
    monkeypatch.setattr(tuning, "_reachable_columns", lambda *_a, **_k: None)
    full = weight_surface(levels, None, target, k=10, step=0.25)
    np.testing.assert_allclose(cand["ndcg"], full["ndcg"], atol=1e-9)
    assert full["ndcg"].max() > 0.1  # a real signal, not a surface of zeros


def test_coarse_to_fine_weight_search_finds_the_full_grids_best_with_fewer_points():
    """Five levels at step 0.1 is 1,001 points: the search evaluates the 0.2 grid and climbs on
    the 0.1 grid – a fraction of the points, every one scored exactly as the full surface scores it."""
    from mgviz.evaluation.tuning import FULL_GRID_MAX, search_weights

    levels, train, target = oracle_case(seed=3)
    rng = np.random.default_rng(4)
    blurred = levels["oracle"] * 0.3 + rng.random(levels["noise"].shape).astype(np.float32)
    levels = {"blurred": blurred, "noise": levels["noise"],
              **{f"n{j}": rng.random(blurred.shape).astype(np.float32) for j in range(3)}}  # fmt: skip
    full = weight_surface(levels, train, target, k=10, step=0.1)
    assert len(full) == 1001 > FULL_GRID_MAX
    found = search_weights(levels, train, target, k=10, step=0.1)
    assert len(found) < len(full) / 3
    merged = found.merge(full, on=list(levels), suffixes=("", "_full"))
    assert len(merged) == len(found)  # every point searched lies on the full grid, scored the same
    np.testing.assert_allclose(merged["ndcg"], merged["ndcg_full"])
    assert found["ndcg"].max() == pytest.approx(full["ndcg"].max())
    weights, surface = choose_weights_grid(levels, train, target, k=10, step=0.1)
    assert len(surface) == len(found) and weights["blurred"] >= 0.3
    # up to FULL_GRID_MAX points the search is the whole grid
    small = {k: levels[k] for k in ("blurred", "noise", "n0")}
    pd.testing.assert_frame_equal(search_weights(small, train, target, step=0.1),
                                  weight_surface(small, train, target, step=0.1))  # fmt: skip
