"""Segment stability: planted groups come back in every re-run, structureless noise does not."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from mgviz import stability
from mgviz.levels.macro import fit_segments
from mgviz.stability import best_match_jaccard, k_stability, segment_stability, stability_word

K = 6


@pytest.fixture(scope="module")
def blobs() -> np.ndarray:
    """Six well-separated groups of users in 20 dimensions."""
    x, _ = make_blobs(900, n_features=20, centers=K, cluster_std=1.0, center_box=(-20, 20), random_state=3)
    return x.astype(np.float32)


@pytest.fixture(scope="module")
def noise() -> np.ndarray:
    """Users spread uniformly over a cube: K-means still returns K segments, but they are arbitrary."""
    return np.random.default_rng(3).uniform(size=(900, 20)).astype(np.float32)


def _stability(vectors, seed: int = 0, **kw) -> dict:
    labels, _, _ = fit_segments(vectors, K, seed)
    return segment_stability(vectors, labels, K, seed, **kw)


def test_planted_blobs_are_stable(blobs):
    rec = _stability(blobs)
    assert rec["ari_seeds"] >= 0.95 and rec["ari_bootstrap"] >= 0.95, rec
    assert len(rec["jaccard"]) == K and min(rec["jaccard"]) >= 0.95, rec["jaccard"]
    assert {stability_word(j) for j in rec["jaccard"]} == {"stable"}
    assert (rec["users"], rec["of"], rec["n_seeds"], rec["n_boot"]) == (900, 900, 5, 5)


def test_structureless_noise_is_clearly_less_stable(blobs, noise):
    planted, arbitrary = _stability(blobs), _stability(noise)
    assert arbitrary["ari_seeds"] <= 0.6 and arbitrary["ari_bootstrap"] <= 0.6, arbitrary
    assert planted["ari_seeds"] - arbitrary["ari_seeds"] >= 0.3
    assert np.mean(arbitrary["jaccard"]) <= 0.6, arbitrary["jaccard"]
    assert any(stability_word(j) != "stable" for j in arbitrary["jaccard"])


def test_same_seed_same_numbers_and_another_seed_other_numbers(noise):
    labels, _, _ = fit_segments(noise, K, 0)
    first = segment_stability(noise, labels, K, seed=0, n_seeds=2, n_boot=2)
    assert segment_stability(noise, labels, K, seed=0, n_seeds=2, n_boot=2) == first
    other = segment_stability(noise, labels, K, seed=1, n_seeds=2, n_boot=2)
    assert other != first  # other re-run seeds and bootstrap draws on arbitrary segments


def test_big_logs_are_re_clustered_on_a_bounded_sample(monkeypatch):
    x, _ = make_blobs(3000, n_features=8, centers=3, random_state=0)
    labels, _, _ = fit_segments(x, 3, 0)
    shapes = []
    real = stability.fit_segments

    def recording(vectors, k, seed=0, n_init=10, notes=None):
        shapes.append(vectors.shape)
        return real(vectors, k, seed, n_init, notes)

    monkeypatch.setattr(stability, "fit_segments", recording)
    rec = segment_stability(x, labels, 3, seed=0, n_seeds=2, n_boot=3, max_users=500)
    assert (rec["users"], rec["of"]) == (500, 3000)
    assert shapes == [(500, 8)] * 5  # 2 seeds + 3 bootstrap resamples, each of the 500 sampled users
    assert rec["ari_seeds"] >= 0.95 and min(rec["jaccard"]) >= 0.95


def test_best_match_jaccard_by_hand():
    reference = np.array([0, 0, 1, 1])
    other = np.array([5, 5, 5, 7])
    # segment 0 = {0, 1}: best cluster {0, 1, 2} → 2/3; segment 1 = {2, 3}: {3} → 1/2 (beats {0, 1, 2}: 1/4)
    np.testing.assert_allclose(best_match_jaccard(reference, other, 3)[:2], [2 / 3, 1 / 2])
    assert np.isnan(best_match_jaccard(reference, other, 3)[2])  # segment 2 has no user here
    np.testing.assert_allclose(best_match_jaccard(reference, np.array([9, 9, 4, 4]), 2), [1.0, 1.0])


@pytest.mark.parametrize(
    ("jaccard", "word"),
    [(1.0, "stable"), (0.75, "stable"), (0.7499, "fuzzy"), (0.5, "fuzzy"), (0.4999, "dissolves"), (0.0, "dissolves"),
     (None, "unknown")],
)  # fmt: skip
def test_stability_words_follow_the_documented_thresholds(jaccard, word):
    assert stability.STABLE == 0.75 and stability.FUZZY == 0.5
    assert stability_word(jaccard) == word


def test_stability_per_k_peaks_at_the_planted_k(blobs, noise):
    per_k = k_stability(blobs, [2, K, 12], seed=0)
    assert per_k["k"].tolist() == [2, K, 12]
    at = dict(zip(per_k["k"], per_k["ari_seeds"], strict=True))
    assert at[K] >= 0.95 and at[12] < at[K], at
    assert k_stability(noise, [K], seed=0)["ari_seeds"].iloc[0] < at[K] - 0.3
    assert k_stability(blobs, [2, K, 12], seed=0).equals(per_k)
