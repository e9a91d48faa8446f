"""An analyst models the bundled sample data and finds the planted interests again."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from tests.conftest import SAMPLE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def truth(sample_model):
    gt = pd.read_csv(SAMPLE / "ground_truth.csv", dtype={"user_id": str})
    return gt.set_index("user_id").loc[sample_model.user_ids]


def test_macro_segments_recover_planted_segments(sample_model, truth):
    ari = adjusted_rand_score(truth["segment"], sample_model.segments)
    assert ari >= 0.8, f"adjusted Rand index {ari:.3f} at the planted K"


def test_planted_segments_are_stable_across_seeds_and_bootstrap(sample_model):
    rec = sample_model.stability
    assert rec["k"] == len(sample_model.profiles) == 6 and rec["users"] == len(sample_model.user_ids)
    assert rec["ari_seeds"] >= 0.9 and rec["ari_bootstrap"] >= 0.9, rec
    assert min(rec["jaccard"]) >= 0.9, rec["jaccard"]
    per_k = {r["k"]: r["ari_seeds"] for r in rec["per_k"]}
    assert sorted(per_k) == [4, 6, 8] and per_k[6] >= 0.9, per_k


def test_meso_top2_categories_contain_a_planted_preference(sample_model, truth):
    top2 = sample_model.top_categories(2)
    preferred = truth["preferred_categories"].str.split("|")
    hit = np.mean([bool(set(t) & set(p)) for t, p in zip(top2, preferred, strict=True)])
    assert hit >= 0.9, f"only {hit:.1%} of users have a planted category in their top 2"


def test_category_mix_is_a_distribution(sample_model):
    mix = sample_model.category_mix
    assert mix.shape == (len(sample_model.user_ids), len(sample_model.categories))
    np.testing.assert_allclose(mix.sum(axis=1), 1.0, rtol=1e-5)
    assert (mix > 0).all()  # smoothed: no category is impossible


def test_keywords_are_real_words_from_the_users_interests(sample_model, sample_dataset):
    kw = sample_model.keywords
    assert kw.groupby("user_id").size().min() >= 3
    # every keyword is a single word that occurs in the text the user wrote or consumed
    assert kw["keyword"].map(lambda w: bool(re.fullmatch(r"[a-z][a-z'-]+", w))).all()
    items = sample_dataset.items.set_index("item_id")
    inter = sample_dataset.interactions
    rng = np.random.default_rng(0)
    for uid in rng.choice(sample_model.user_ids, 25, replace=False):
        own = inter.loc[inter["user_id"] == uid]
        corpus = " ".join(own["text"]) + " " + sample_dataset.users.set_index("user_id").at[uid, "text"]
        consumed = items.loc[own["item_id"].unique()]
        corpus += " ".join(consumed["title"] + " " + consumed["text"])
        words = kw.loc[kw["user_id"] == uid, "keyword"]
        assert all(w in corpus.lower() for w in words), (uid, list(words))


def _category_vocabulary() -> dict[str, set[str]]:
    """Every word the sample generator composes each category's texts from (titles, descriptions,
    reviews, bios: its nouns, places, people, templates …) – the oracle for what a keyword may be."""
    import dataclasses
    import importlib.util
    import sys

    name = "mgviz_sample_data_generate"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SAMPLE / "generate.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is created
        spec.loader.exec_module(module)
    gen = sys.modules[name]
    fields = [f.name for f in dataclasses.fields(gen.Category) if f.name not in ("name", "related")]
    vocabulary = {}
    for cat in gen.EN_CATEGORIES:
        text = " ".join(" ".join([v] if isinstance(v, str) else v) for v in (getattr(cat, f) for f in fields))
        vocabulary[cat.name] = set(re.findall(r"[a-z][a-z'-]+", text.lower()))
    return vocabulary


def test_keywords_lean_to_planted_categories(sample_model, truth):
    """A segment's keywords are words of the categories its users were planted to prefer, not noise."""
    vocabulary = _category_vocabulary()
    for profile in sample_model.profiles:
        planted = truth.loc[sample_model.segments == profile.segment, "preferred_categories"].str.split("|")
        top_planted = list(planted.explode().value_counts().index[:2])
        own = set().union(*(vocabulary[c] for c in top_planted))
        others = set().union(*(v for c, v in vocabulary.items() if c not in top_planted))
        keywords = [k for k, _ in profile.keywords[:8]]
        assert len(keywords) == 8, (profile.label, keywords)
        where = (profile.label, top_planted, keywords)
        assert all(k in own for k in keywords[:2]), where  # the two in the label
        assert sum(k in own for k in keywords) >= 6, where
        assert sum(k in own and k not in others for k in keywords) >= 3, where  # words only those categories use
        assert not any(k in others and k not in own for k in keywords), where  # no word of another category only


def test_segment_profiles_are_complete(sample_model):
    assert len(sample_model.profiles) == 6
    assert sum(p.size for p in sample_model.profiles) == len(sample_model.user_ids)
    labels = sample_model.segment_labels
    assert len(set(labels)) == len(labels)
    for p in sample_model.profiles:
        assert p.top_categories and p.keywords and p.top_items
        assert "age" in p.demographics


def test_fused_lists_exclude_seen_items_and_explain_themselves(sample_model):
    recs = sample_model.recommend(n=10)
    assert recs.groupby("user_id").size().eq(10).all()
    seen = sample_model.seen
    rows = sample_model.dataset.user_index().get_indexer(recs["user_id"])
    cols = sample_model.dataset.item_index().get_indexer(recs["item_id"])
    assert np.asarray(seen[rows, cols]).ravel().sum() == 0
    contrib = recs[list(sample_model.levels)].sum(axis=1)
    np.testing.assert_allclose(contrib, recs["score"], atol=1e-4)
    assert (recs.groupby("user_id")["score"].diff().dropna() <= 1e-9).all()


def test_cold_start_predictor_beats_the_prior(sample_model):
    q = sample_model.cold_start_quality
    assert q is not None
    assert q["mae"] < q["mae_prior"]
    assert q["top1_accuracy"] > q["top1_prior"]


def test_same_seed_gives_identical_segments_and_lists(sample_dataset, sample_model, encoder):
    from mgviz.pipeline import BuildConfig, build

    again = build(sample_dataset, BuildConfig(k=6, seed=0, umap=False, k_range=[4, 6, 8]), encoder)
    np.testing.assert_array_equal(again.segments, sample_model.segments)
    pd.testing.assert_frame_equal(again.recommend(n=10), sample_model.recommend(n=10))
    pd.testing.assert_frame_equal(again.keywords, sample_model.keywords)


def test_time_granularity_per_population_and_user(sample_model):
    from mgviz.levels.meso import category_mix_over_time

    ds = sample_model.dataset
    pop = category_mix_over_time(ds, sample_model.item_categories, sample_model.categories, freq="QS")
    assert pop["period"].nunique() == 4  # one year of data by quarter
    np.testing.assert_allclose(pop.groupby("period")["share"].sum(), 1.0, rtol=1e-6)
    uid = sample_model.user_ids[0]
    mine = category_mix_over_time(ds, sample_model.item_categories, sample_model.categories, "MS", user_ids=uid)
    assert 0 < mine["period"].nunique() <= 12
    top = mine.groupby("category")["share"].sum().idxmax()
    assert top in sample_model.top_categories(3)[0]


def test_drift_view_and_time_level_recover_the_planted_drift(sample_model, truth):
    """45 planted users switch to another segment's categories on 2025-07-01: the Meso drift view ranks
    them first and the time level's lists follow their later interest, the micro level's less so."""
    from sklearn.metrics import roc_auc_score

    from mgviz import explore

    later = truth["later_categories"].fillna("")
    drifters = later[later != ""]
    assert len(drifters) == 45
    table = explore.drift_table(sample_model)
    valid = table.dropna(subset=["drift"])
    planted = valid["user_id"].isin(drifters.index)
    assert planted.sum() == len(drifters), "every drifter has enough history on both sides"
    auc = roc_auc_score(planted, valid["drift"])
    precision = planted.iloc[: len(drifters)].mean()  # the table is sorted, most drifting first
    assert auc >= 0.95 and precision >= 0.8, f"drift ranks the planted users with AUC {auc:.3f}, top-45 {precision:.0%}"
    mine = valid[planted].set_index("user_id")
    rising_right = np.mean([mine.loc[u, "rising"] in later[u].split("|") for u in mine.index])
    assert rising_right >= 0.9, f"the rising category is a planted later one for {rising_right:.0%}"
    rows = sample_model.dataset.user_index().get_indexer(drifters.index)
    new_cats = [c.split("|") for c in drifters]
    time_share = explore.list_category_share(sample_model, rows, "time", new_cats).mean()
    micro_share = explore.list_category_share(sample_model, rows, "micro", new_cats).mean()
    assert time_share >= 0.6 and time_share >= micro_share + 0.15, (time_share, micro_share)
    # the view of the most drifting user: the time level's list is closer to the later half than micro's
    view = explore.drift_view(sample_model, int(valid["row"].iloc[0])).pivot(index="category", columns="what",
                                                                              values="share")  # fmt: skip
    late, tl, ml = (view[c] for c in explore.DRIFT_COLUMNS[1:])
    assert (tl - late).abs().sum() < (ml - late).abs().sum()


def test_real_time_update_moves_one_user_only(sample_model):
    from mgviz.realtime import update_user

    model = sample_model
    u = 0
    uid = model.user_ids[u]
    cats = model.categories
    mine = model.category_mix[u]
    target = int(np.argmin(mine))  # the category this user cares least about
    in_target = np.flatnonzero(model.item_categories[:, target].toarray().ravel() > 0)
    unseen = [i for i in in_target if model.seen[u, i] == 0][:15]
    events = pd.DataFrame({"item_id": model.item_ids[unseen], "rating": 5.0})
    updated = update_user(model, uid, events)

    assert updated.category_mix[u, target] > 3 * mine[target], cats[target]
    np.testing.assert_array_equal(updated.category_mix[1:], model.category_mix[1:])
    others = np.arange(1, len(model.user_ids))
    for level in ("macro", "meso", "micro", "semantic"):
        np.testing.assert_array_equal(updated.levels[level].score(others), model.levels[level].score(others))
    # the new items are now seen: never recommended again
    recs = updated.recommend(n=20, rows=[u])
    assert not set(recs["item_id"]) & set(events["item_id"])
    # the meso level now favours the new category for this user
    in_target_mask = model.item_categories[:, target].toarray().ravel() > 0
    before = model.levels["meso"].score([u])[0][in_target_mask].mean()
    after = updated.levels["meso"].score([u])[0][in_target_mask].mean()
    assert after > before
    with pytest.raises(ValueError, match="unknown item"):
        update_user(model, uid, pd.DataFrame({"item_id": ["no-such-item"]}))
    with pytest.raises(KeyError):
        update_user(model, "no-such-user", events)


def test_the_social_level_helps_on_held_out_data():
    """sample_data/friends.csv: with the friends file, the fused lists (weights tuned on validation, never on
    test) score a higher held-out NDCG@10 than the same data without it, and than the same run with social
    weight 0 (benchmarks/social.py writes the figures to docs/benchmarks.md)."""
    import sys

    sys.path.insert(0, str(SAMPLE.parent / "benchmarks"))
    from social import contexts

    with_friends, without = contexts(SAMPLE)
    tuned = with_friends.auto_weights()
    assert tuned.get("social", 0) > 0, tuned  # validation chose to use friends
    social = with_friends.metrics_for(tuned, k=10)["ndcg@10"]
    off = with_friends.metrics_for({**tuned, "social": 0.0}, k=10)["ndcg@10"]
    plain = without.metrics_for(without.auto_weights(), k=10)["ndcg@10"]
    assert social > off and social > plain, (social, off, plain)
    assert "social" not in without.model.levels and "social" in with_friends.model.levels
