"""Chinese text gives word keywords; a bare log (ids only) still gets categories, segments and lists."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from mgviz.io import load_dataset
from mgviz.pipeline import BuildConfig, build
from mgviz.text import tokenize
from tests.conftest import SAMPLE

ZH = SAMPLE / "zh"
pytestmark = pytest.mark.slow


def test_tokenize_segments_chinese_into_words():
    words = tokenize("我爱看电影，特别喜欢科幻片和动作片。")
    assert "电影" in words
    assert "科幻片" in words or "科幻" in words
    assert "动作片" in words or "动作" in words
    assert all(len(w) <= 4 for w in words)  # words, not the whole sentence
    assert "的" not in tokenize("我的书")


@pytest.fixture(scope="module")
def zh_model(encoder):
    ds, _ = load_dataset(ZH / "interactions.csv", ZH / "items.csv", ZH / "users.csv")
    return build(ds, BuildConfig(k=4, seed=0, umap=False, k_range=[]), encoder)


def test_chinese_sample_segments_and_keywords(zh_model):
    gt = pd.read_csv(ZH / "ground_truth.csv", dtype={"user_id": str}).set_index("user_id").loc[zh_model.user_ids]
    assert adjusted_rand_score(gt["segment"], zh_model.segments) >= 0.8
    kw = zh_model.keywords["keyword"]
    cjk = kw[kw.str.contains(r"[\u4e00-\u9fff]")]
    assert len(cjk) > 0.8 * len(kw)
    assert cjk.str.len().max() <= 6, "a keyword must be a word, not a sentence"
    assert not cjk.str.contains(r"[，。！？、]").any()
    labels = " ".join(zh_model.segment_labels)
    assert re.search(r"[\u4e00-\u9fff]", labels)


def test_bare_log_gets_derived_categories(encoder, tmp_path):
    inter = pd.read_csv(SAMPLE / "interactions.csv", usecols=["user_id", "item_id", "timestamp"])
    inter = inter[inter["user_id"].isin(sorted(inter["user_id"].unique())[:300])]
    path = tmp_path / "bare.csv"
    inter.to_csv(path, index=False)
    ds, _ = load_dataset(path)
    assert not ds.has_rating and ds.items["categories"].map(len).sum() == 0
    model = build(ds, BuildConfig(k=3, seed=0, umap=False, k_range=[]), encoder)
    assert model.categories_derived and len(model.categories) >= 2
    assert len(set(model.categories)) == len(model.categories)
    np.testing.assert_allclose(model.category_mix.sum(axis=1), 1.0, rtol=1e-5)
    recs = model.recommend(n=5)
    assert recs.groupby("user_id").size().eq(5).all()
    # derived categories follow behaviour: users' top derived category explains a good share of their history
    assert np.mean(model.category_mix.max(axis=1)) > 2 / len(model.categories)
