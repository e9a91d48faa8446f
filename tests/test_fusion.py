"""Fusion weights, per-user normalisation and top-N lists behave exactly as documented."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from mgviz.fusion import fuse, normalise_per_user, parse_weights, top_n


def test_parse_weights():
    assert parse_weights("auto") == "auto"
    assert parse_weights("micro=1") == {"macro": 0.0, "meso": 0.0, "micro": 1.0, "semantic": 0.0, "time": 0.0}
    assert parse_weights("macro=0.3, meso=0.4,micro=0.3")["meso"] == 0.4
    for bad, msg in [("micro=x", "not a number"), ("taste=1", "unknown level"), ("micro", "level=number"),
                     ("micro=0", "at least one"), ("micro=-1", ">= 0"), ("micro=nan", ">= 0")]:  # fmt: skip
        with pytest.raises(ValueError, match=msg):
            parse_weights(bad)


def test_normalise_per_user_maps_rows_to_unit_interval():
    out = normalise_per_user(np.array([[1.0, 3.0, 2.0], [5.0, 5.0, 5.0]]))
    np.testing.assert_allclose(out, [[0.0, 1.0, 0.5], [0.0, 0.0, 0.0]])
    assert out.dtype == np.float32


def test_fuse_is_a_normalised_weighted_sum():
    a, b = np.array([[1.0, 0.0]], np.float32), np.array([[0.0, 1.0]], np.float32)
    np.testing.assert_allclose(fuse({"micro": a, "meso": b}, {"micro": 3, "meso": 1}), [[0.75, 0.25]])
    np.testing.assert_allclose(fuse({"micro": a, "meso": b}, {"micro": 1}), a)
    with pytest.raises(ValueError):
        fuse({"micro": a}, {"meso": 1})


def test_top_n_excludes_seen_and_breaks_ties_by_item():
    scores = np.array([[0.5, 0.9, 0.5, 0.5, 0.1], [1.0, 1.0, 1.0, 1.0, 1.0]], np.float32)
    seen = sp.csr_matrix(np.array([[0, 1, 0, 0, 0], [0, 0, 0, 0, 0]]))
    np.testing.assert_array_equal(top_n(scores, 3, exclude=seen), [[0, 2, 3], [0, 1, 2]])


def test_top_n_pads_when_too_few_items_are_left():
    scores = np.array([[0.1, 0.2, 0.3]], np.float32)
    seen = sp.csr_matrix(np.array([[1, 1, 0]]))
    np.testing.assert_array_equal(top_n(scores, 3, exclude=seen), [[2, -1, -1]])


def test_top_n_matches_a_full_sort_on_random_scores():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, size=(50, 40)).astype(np.float32) / 4  # many ties
    expected = np.array([sorted(range(40), key=lambda i, r=r: (-r[i], i))[:7] for r in scores])
    np.testing.assert_array_equal(top_n(scores, 7), expected)
    neg = -scores
    expected = np.array([sorted(range(40), key=lambda i, r=r: (-r[i], i))[:7] for r in neg])
    np.testing.assert_array_equal(top_n(neg, 7), expected)


def test_product_fusion_prefers_items_all_levels_agree_on():
    a = np.array([[1.0, 0.5, 0.0]], np.float32)
    b = np.array([[0.0, 0.5, 1.0]], np.float32)
    weighted = fuse({"micro": a, "meso": b}, {"micro": 1, "meso": 1})
    product = fuse({"micro": a, "meso": b}, {"micro": 1, "meso": 1}, strategy="product")
    np.testing.assert_allclose(weighted, [[0.5, 0.5, 0.5]])  # the sum cannot tell them apart
    assert product[0, 1] > product[0, 0] and product[0, 1] > product[0, 2]  # the product can
    with pytest.raises(ValueError, match="strategy"):
        fuse({"micro": a}, {"micro": 1}, strategy="max")


def test_recommend_in_blocks_gives_the_same_lists(monkeypatch):
    import pandas as pd

    import mgviz.levels.base as base
    from mgviz.fusion import recommend
    from mgviz.levels.base import FactorLevel

    rng = np.random.default_rng(0)
    levels = {lv: FactorLevel(lv, 40, user_side=rng.random((300, 6)).astype(np.float32),
                              item_side=rng.random((40, 6)).astype(np.float32))
              for lv in ("macro", "meso", "micro", "semantic")}  # fmt: skip
    seen = sp.random(300, 40, density=0.2, format="csr", random_state=0)
    users, items = np.array([f"u{i}" for i in range(300)]), np.array([f"i{i}" for i in range(40)])
    weights = {"macro": 0.1, "meso": 0.2, "micro": 0.5, "semantic": 0.2}
    whole = recommend(levels, weights, seen, users, items, n=5)
    real, blocks = base.iter_blocks, []

    def small_blocks(rows, n_items, cells=0):  # 64 users a block
        for block in real(rows, n_items, cells=64 * 40):
            blocks.append(len(block))
            yield block

    monkeypatch.setattr(base, "iter_blocks", small_blocks)
    pd.testing.assert_frame_equal(recommend(levels, weights, seen, users, items, n=5), whole)
    assert blocks == [64, 64, 64, 64, 44]
    assert len(whole) == 300 * 5
    # the same lists as fusing full score arrays at once
    everyone = np.arange(300)
    dense = fuse({lv: level.score(everyone) for lv, level in levels.items()}, weights)
    np.testing.assert_array_equal(whole["item_id"].to_numpy().reshape(300, 5), items[top_n(dense, 5, exclude=seen)])
