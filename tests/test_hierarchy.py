"""mgviz.hierarchy and its chart: segment → category → keyword wedges that nest, find the planted
interests of the sample data, and lead to the users and items really behind them."""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers_app import tiny_model  # noqa: E402

from mgviz import hierarchy, plots  # noqa: E402
from mgviz.text import tokenize  # noqa: E402
from tests.conftest import SAMPLE  # noqa: E402


@pytest.fixture(scope="module")
def tiny():
    return tiny_model()


@pytest.fixture(scope="module")
def tiny_frame(tiny):
    return hierarchy.interest_hierarchy(tiny)


def children_of(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {parent: part for parent, part in frame.groupby("parent") if parent}


def assert_nested(frame: pd.DataFrame) -> None:
    """Unique ids, every parent a node, and no node's children adding up to more than the node."""
    assert frame["id"].is_unique
    values = dict(zip(frame["id"], frame["users"], strict=True))
    assert set(frame["parent"]) - {""} <= set(values)
    assert (frame["parent"] == "").sum() == 1
    for parent, part in children_of(frame).items():
        assert part["users"].sum() <= values[parent], (parent, part["users"].sum(), values[parent])
    assert (frame["users"] > 0).all()


# ----------------------------------------------------------------------------------------------- tiny model
def test_the_frame_has_every_level_and_nests(tiny, tiny_frame):
    assert list(tiny_frame.columns) == list(hierarchy.COLUMNS)
    assert_nested(tiny_frame)
    levels = tiny_frame.groupby("level").size()
    assert levels["all"] == 1 and levels["segment"] == len(tiny.profiles)
    root = tiny_frame.iloc[0]
    assert root["id"] == hierarchy.ROOT and root["users"] == len(tiny.user_ids)
    segs = tiny_frame[tiny_frame["level"] == "segment"]
    assert segs["users"].sum() == len(tiny.user_ids)  # segments partition the users
    np.testing.assert_array_equal(segs["users"], np.bincount(tiny.segments))
    per_segment = tiny_frame[tiny_frame["level"] == "category"].groupby("parent").size()
    assert (per_segment == 5).all()  # 6 categories, 5 shown
    per_category = tiny_frame[tiny_frame["level"] == "keyword"].groupby("parent").size()
    assert per_category.max() == 5 and len(per_category) >= 3 * len(tiny.profiles)


def test_the_sizes_follow_the_settings(tiny):
    frame = hierarchy.interest_hierarchy(tiny, categories_per_segment=2, keywords_per_category=3)
    assert_nested(frame)
    assert (frame[frame["level"] == "category"].groupby("parent").size() == 2).all()
    assert frame[frame["level"] == "keyword"].groupby("parent").size().max() == 3


def test_category_wedges_are_the_members_interest_and_lift_is_against_everyone(tiny, tiny_frame):
    mix = tiny.category_mix.astype(np.float64)
    population = mix.mean(axis=0)
    for row in tiny_frame[tiny_frame["level"] == "category"].itertuples():
        members = tiny.segments == row.segment
        c = tiny.categories.index(row.category)
        assert row.users == pytest.approx(mix[members, c].sum(), rel=1e-9)
        assert row.share == pytest.approx(mix[members, c].mean(), rel=1e-9)
        assert row.lift == pytest.approx(mix[members, c].mean() / population[c], rel=1e-9)
        top3 = np.argsort(-mix[members], axis=1)[:, :3]
        assert row.members == int((top3 == c).any(axis=1).sum())
    # each segment's wedges in decreasing size: the biggest first
    for _, part in tiny_frame[tiny_frame["level"] == "category"].groupby("parent"):
        assert part["users"].is_monotonic_decreasing


def _naive_keyword_wedges(model) -> dict[tuple[int, str, str], float]:
    """Keyword wedges computed user by user from the definition (the oracle for the vectorised code):
    P(c | k) from the items whose text has the word, P(k | u) from the user's keyword weights,
    wedge = Σ_u P(k | u) P(c | k) min(1, P(c | u) / Σ_k' P(k' | u) P(c | k'))."""
    items = model.dataset.items
    vocab = set(model.text.vocabulary)
    words_of = [set(tokenize(f"{t}. {x}")) & vocab for t, x in zip(items["title"], items["text"], strict=True)]
    p_c_k: dict[str, dict[str, float]] = {}
    for words, cats in zip(words_of, items["categories"], strict=True):
        for w in words:
            for c in cats:
                p_c_k.setdefault(w, {}).setdefault(c, 0.0)
                p_c_k[w][c] += 1.0 / len(cats)
    for w, by_cat in p_c_k.items():
        total = sum(by_cat.values())
        p_c_k[w] = {c: v / total for c, v in by_cat.items()}
    out: dict[tuple[int, str, str], float] = {}
    for r, uid in enumerate(model.user_ids):
        mine = model.keywords[model.keywords["user_id"] == uid]
        weights = dict(zip(mine["keyword"], mine["weight"], strict=True))
        total = sum(weights.values())
        if not total:
            continue
        s = int(model.segments[r])
        for j, c in enumerate(model.categories):
            denom = sum(v / total * p_c_k.get(k, {}).get(c, 0.0) for k, v in weights.items())
            if denom <= 0:
                continue
            cap = min(1.0, float(model.category_mix[r, j]) / denom)
            for k, v in weights.items():
                add = v / total * p_c_k.get(k, {}).get(c, 0.0) * cap
                if add > 0:
                    out[(s, c, k)] = out.get((s, c, k), 0.0) + add
    return out


def test_keyword_wedges_match_the_definition_computed_user_by_user(tiny, tiny_frame):
    naive = _naive_keyword_wedges(tiny)
    keywords = tiny_frame[tiny_frame["level"] == "keyword"]
    assert len(keywords) > 0
    for row in keywords.itertuples():
        assert row.users == pytest.approx(naive[(row.segment, row.category, row.keyword)], rel=1e-6), row.id
    # and the shown keywords are each category's biggest
    for (s, c), part in keywords.groupby(["segment", "category"]):
        theirs = sorted((v for (s2, c2, _), v in naive.items() if (s2, c2) == (s, c)), reverse=True)
        np.testing.assert_allclose(part["users"].to_numpy(), theirs[: len(part)], rtol=1e-6)


def test_members_of_a_wedge_are_its_users(tiny, tiny_frame):
    kw = tiny.keywords
    for row in tiny_frame.itertuples():
        users, items = hierarchy.hierarchy_members(tiny, row.id)
        assert len(users) == row.members, row.id
        rows = tiny.dataset.user_index().get_indexer(users["user_id"])
        assert (rows >= 0).all()
        assert users["weight"].is_monotonic_decreasing
        if row.level != "all":
            assert (tiny.segments[rows] == row.segment).all(), row.id
        if row.level == "category":
            assert users["top_categories"].str.split(", ").map(lambda cats, c=row.category: c in cats).all()
            assert items["categories"].str.split(", ").map(lambda cats, c=row.category: c in cats).all()
        if row.level == "keyword":
            having = set(kw.loc[kw["keyword"] == row.keyword, "user_id"])
            assert set(users["user_id"]) <= having
            assert len(having & set(tiny.user_ids[tiny.segments == row.segment])) == row.members
            assert len(items) > 0
            texts = tiny.dataset.items.set_index("item_id").loc[items["item_id"]]
            assert all(row.keyword in tokenize(f"{t}. {x}") for t, x in zip(texts["title"], texts["text"], strict=True))
            assert items["categories"].str.split(", ").map(lambda cats, c=row.category: c in cats).all()
        # items: what those users consumed, most consumed first, counted right
        seen = tiny.seen[rows]
        counts = np.asarray(seen.sum(axis=0)).ravel()
        index = tiny.dataset.item_index()
        np.testing.assert_array_equal(items["users"], counts[index.get_indexer(items["item_id"])])
        assert items["users"].is_monotonic_decreasing


def test_members_can_be_capped_and_bad_ids_are_refused(tiny, tiny_frame):
    node = tiny_frame[tiny_frame["level"] == "segment"]["id"].iloc[0]
    users, items = hierarchy.hierarchy_members(tiny, node, n_users=4, n_items=3)
    full, _ = hierarchy.hierarchy_members(tiny, node)
    assert len(users) == 4 and len(items) == 3
    pd.testing.assert_frame_equal(users, full.head(4))
    for bad in ("s99", "x", "s0.c99", "s0.c1.k99999", "s0/c1"):
        with pytest.raises(KeyError):
            hierarchy.hierarchy_members(tiny, bad)


def test_node_names_and_chart_selections(tiny_frame):
    names = hierarchy.node_names(tiny_frame)
    kw = tiny_frame[tiny_frame["level"] == "keyword"].iloc[0]
    seg = tiny_frame.loc[tiny_frame["id"] == f"s{kw['segment']}", "label"].iloc[0]
    assert names[kw["id"]] == f"{seg} › {kw['category']} › {kw['keyword']}"
    assert names[hierarchy.ROOT] == "All users"
    ids = tiny_frame["id"].tolist()
    click = {"selection": {"points": [{"id": kw["id"], "parent": kw["parent"], "label": kw["keyword"]}],
                           "point_indices": [3], "box": [], "lasso": []}}  # fmt: skip
    assert hierarchy.selected_node(click, ids) == kw["id"]
    assert hierarchy.selected_node({"selection": {"points": []}}, ids) is None
    assert hierarchy.selected_node({"selection": {"points": [{"id": "nope"}]}}, ids) is None
    assert hierarchy.selected_node(None, ids) is None


def test_a_model_without_keywords_has_no_keyword_wedges(tiny):
    bare = SimpleNamespace(**{k: getattr(tiny, k) for k in ("category_mix", "segments", "categories", "profiles",
                                                            "item_categories", "user_ids", "text")})  # fmt: skip
    bare.keywords = tiny.keywords.iloc[:0]
    frame = hierarchy.interest_hierarchy(bare)
    assert_nested(frame)
    assert set(frame["level"]) == {"all", "segment", "category"}


# ----------------------------------------------------------------------------------------------- the chart
def test_the_sunburst_draws_the_frame(tiny_frame):
    fig = plots.interest_sunburst(tiny_frame)
    trace = fig.data[0]
    assert trace.type == "sunburst" and trace.branchvalues == "total"
    assert list(trace.ids) == tiny_frame["id"].tolist()
    assert list(trace.parents) == tiny_frame["parent"].tolist()
    assert set(trace.parents) - {""} <= set(trace.ids)
    values = dict(zip(trace.ids, trace.values, strict=True))
    for parent, part in children_of(tiny_frame).items():
        assert sum(values[i] for i in part["id"]) <= values[parent]
    lift = tiny_frame["lift"].to_numpy()
    colors = np.asarray(trace.marker.colors)
    shown = np.isfinite(lift)
    np.testing.assert_allclose(colors[shown], np.log2(np.clip(lift[shown], 0.25, 4)))
    assert (colors[~shown] == 0).all()  # root and segments: neutral
    assert trace.marker.cmid == 0 and trace.marker.showscale and trace.marker.colorscale
    row = tiny_frame[tiny_frame["level"] == "category"].iloc[0]
    hover = trace.hovertext[int(row.name)]
    assert f"{row['share']:.1%} of the segment's interest" in hover and f"lift {row['lift']:.2f}×" in hover
    assert f"{row['users']:,.1f} users' worth" in hover


def test_the_icicle_variant_and_the_empty_case(tiny_frame):
    fig = plots.interest_sunburst(tiny_frame, kind="icicle", title="t")
    assert fig.data[0].type == "icicle" and list(fig.data[0].ids) == tiny_frame["id"].tolist()
    with pytest.raises(ValueError):
        plots.interest_sunburst(tiny_frame, kind="pie")
    empty = plots.interest_sunburst(tiny_frame.head(1))
    assert len(empty.data) == 0 and len(empty.layout.annotations) == 1


def test_labels_from_the_data_are_escaped(tiny_frame):
    evil = tiny_frame.copy()
    evil.loc[1, "label"] = "<b>x</b>"
    trace = plots.interest_sunburst(evil).data[0]
    assert trace.labels[1] == "&lt;b&gt;x&lt;/b&gt;"
    assert "<b>x</b>" not in trace.hovertext[1]


# ----------------------------------------------------------------------------------------------- the sample data
@pytest.fixture(scope="module")
def truth(sample_model):
    gt = pd.read_csv(SAMPLE / "ground_truth.csv", dtype={"user_id": str})
    return gt.set_index("user_id").loc[sample_model.user_ids]


@pytest.fixture(scope="module")
def sample_frame(sample_model):
    return hierarchy.interest_hierarchy(sample_model)


def planted(truth: pd.DataFrame, members: np.ndarray) -> set[str]:
    """The two categories the segment's users were planted to prefer (every member has both)."""
    return set(truth.loc[members, "preferred_categories"].str.split("|").explode().value_counts().index[:2])


@pytest.mark.slow
def test_each_segments_biggest_category_wedges_are_its_planted_categories(sample_model, sample_frame, truth):
    assert_nested(sample_frame)
    cats = sample_frame[sample_frame["level"] == "category"]
    for s in range(len(sample_model.profiles)):
        mine = cats[cats["segment"] == s].sort_values("users", ascending=False)
        want = planted(truth, sample_model.segments == s)
        assert set(mine["category"].iloc[:2]) == want, (s, list(mine["category"]), want)
        assert (mine["lift"].iloc[:2] > 1.5).all(), mine[["category", "lift"]]
        assert mine["users"].iloc[:2].sum() > 0.5 * sample_model.profiles[s].size


@pytest.mark.slow
def test_the_planted_categories_keywords_are_words_of_those_categories(sample_model, sample_frame, truth):
    from tests.test_levels_sample import _category_vocabulary

    vocabulary = _category_vocabulary()
    keywords = sample_frame[sample_frame["level"] == "keyword"]
    for s in range(len(sample_model.profiles)):
        for c in planted(truth, sample_model.segments == s):
            words = keywords[(keywords["segment"] == s) & (keywords["category"] == c)]
            assert len(words) == 5, (s, c)
            assert sum(w in vocabulary[c] for w in words["keyword"]) >= 4, (s, c, list(words["keyword"]))
            assert (words["lift"] > 1).all(), words[["keyword", "lift"]]


@pytest.mark.slow
def test_sample_wedges_lead_to_their_members(sample_model, sample_frame):
    kw = sample_model.keywords
    for row in sample_frame[sample_frame["level"] != "all"].sample(25, random_state=0).itertuples():
        users, items = hierarchy.hierarchy_members(sample_model, row.id, n_items=10)
        rows = sample_model.dataset.user_index().get_indexer(users["user_id"])
        assert len(users) == row.members and (sample_model.segments[rows] == row.segment).all(), row.id
        if row.level == "keyword":
            assert set(users["user_id"]) <= set(kw.loc[kw["keyword"] == row.keyword, "user_id"])
        assert items["users"].is_monotonic_decreasing and items["users"].iloc[0] > 0, row.id
        if row.level == "segment":  # what the members consumed: every item listed was consumed by some
            assert (items["users"] > 0).all() and (items["lift"] > 0).all() and len(items) == 10


# ----------------------------------------------------------------------------------------------- scale
def _stand_in(n_users: int, n_items: int, n_cats: int = 20, n_terms: int = 5_000, k: int = 8, seed: int = 0):
    """Just what the hierarchy reads, for a big synthetic log (users with a favourite category, their
    keywords mostly words of it; 20 interactions and 10 keywords per user)."""
    rng = np.random.default_rng(seed)
    item_cat = rng.integers(0, n_cats, n_items)
    block = n_terms // n_cats
    words = np.where(rng.random((n_items, 8)) < 0.8, item_cat[:, None] * block + rng.integers(0, block, (n_items, 8)),
                     rng.integers(0, n_terms, (n_items, 8)))  # fmt: skip
    segments = rng.integers(0, k, n_users)
    fav = (segments * 2 + rng.integers(0, 2, n_users)) % n_cats
    mix = (rng.dirichlet(np.full(n_cats, 0.3), n_users) * 0.4).astype(np.float32)
    mix[np.arange(n_users), fav] += 0.6
    kw_terms = np.where(rng.random((n_users, 10)) < 0.8, fav[:, None] * block + rng.integers(0, block, (n_users, 10)),
                        rng.integers(0, n_terms, (n_users, 10)))  # fmt: skip
    user_ids = np.char.add("u", np.arange(n_users).astype(str)).astype(object)
    vocab = np.char.add("w", np.arange(n_terms).astype(str)).astype(object)
    keywords = pd.DataFrame({"user_id": np.repeat(user_ids, 10), "rank": np.tile(np.arange(1, 11), n_users),
                             "keyword": vocab[kw_terms.ravel()], "weight": rng.random(n_users * 10) + 0.01})  # fmt: skip
    return SimpleNamespace(
        category_mix=mix, segments=segments, categories=[f"cat{c}" for c in range(n_cats)], user_ids=user_ids,
        item_categories=sp.csr_matrix((np.ones(n_items), (np.arange(n_items), item_cat)), shape=(n_items, n_cats)),
        keywords=keywords.drop_duplicates(["user_id", "keyword"]),
        profiles=[SimpleNamespace(label=f"segment {s}", display_name=f"segment {s}", size=int((segments == s).sum())) for s in range(k)],
        text=SimpleNamespace(vocabulary=vocab, item_counts=sp.csr_matrix(
            (np.ones(words.size), (np.repeat(np.arange(n_items), 8), words.ravel())), shape=(n_items, n_terms))),
    )  # fmt: skip


def _peak(model) -> int:
    tracemalloc.start()
    try:
        hierarchy.interest_hierarchy(model)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_200k_users_take_seconds_and_memory_does_not_grow_with_items():
    big = _stand_in(200_000, 20_000)
    start = time.perf_counter()
    frame = hierarchy.interest_hierarchy(big)
    took = time.perf_counter() - start
    assert took < 15, f"{took:.1f} s for 200k users"  # about 1.5 s alone on one core
    assert_nested(frame)
    assert len(frame[frame["level"] == "category"]) == 8 * 5
    # a segment's two favourite categories are its biggest wedges
    for s in range(8):
        top = frame[(frame["segment"] == s) & (frame["level"] == "category")]["category"].iloc[:2]
        assert set(top) == {f"cat{(2 * s) % 20}", f"cat{(2 * s + 1) % 20}"}
    # memory: the same users with 10× the items need about the same; twice the users about twice
    few_items, many_items = _peak(_stand_in(20_000, 2_000)), _peak(_stand_in(20_000, 20_000))
    twice_the_users = _peak(_stand_in(40_000, 2_000))
    assert many_items < 1.5 * few_items, (few_items, many_items)
    assert 1.4 * few_items < twice_the_users < 2.6 * few_items, (few_items, twice_the_users)
